package dev.interlayer.models.cli;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.quantize.GgmlBlocks;
import dev.interlayer.models.quantize.Imatrix;
import dev.interlayer.models.quantize.LadderFormat;
import dev.interlayer.models.quantize.LmEval;
import dev.interlayer.models.quantize.MixedQuantizer;
import dev.interlayer.models.quantize.QuantizedGguf;
import dev.interlayer.models.quantize.SequentialQuantizer;
import dev.interlayer.models.quantize.SiteQuantizer;
import dev.interlayer.quant.Aespa;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.QuantScheme;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The {@code --method} half of {@code ./interlayer quantize}: calibrated post-training quantization of a GGUF
 * decoder's block linears into GGUF blocks (see {@link SequentialQuantizer} for the protocol and
 * {@link GgmlBlocks} for the grids), with progress per linear on stderr and a summary on stdout.
 */
final class CalibratedQuantize {
    @Option(names = "--method", paramLabel = "M", description = "rtn, gptq, awq, boa, aespa, awq-gptq"
            + " (AWQ's scales, then GPTQ's rounding) or mixed (calibrated; needs --calibration except rtn).")
    String method;

    @Option(names = "--bits", paramLabel = "B", description = "Code width: 4, 5 or 8 (default 4).")
    Integer bits;

    @Option(names = "--format", paramLabel = "F", description = "Instead of --bits/--sym: one of " + LadderFormat.NAMES
            + ". Formats without a GGUF type cannot be written: use --eval.")
    String format;

    @Option(names = "--ladder", paramLabel = "LIST", description = "mixed: the formats to choose from, most bits first"
            + " (default " + LadderFormat.GGUF_LADDER + " with --out, " + LadderFormat.DEFAULT_LADDER
            + " with --eval only).")
    String ladder;

    @Option(names = "--target-bits", paramLabel = "B", description = "mixed: the least calibration KLD predicted by the"
            + " layers' sensitivities at an average of at most B bits per weight over the quantized linears.")
    Double targetBits;

    @Option(names = "--eval", paramLabel = "FILE", description = "Also evaluate the quantized model in memory (dequantized"
            + " weights, float arithmetic) on this held-out text against the unquantized one, as ./interlayer eval;"
            + " --out may then be left out.")
    Path evalText;

    @Option(names = "--group", paramLabel = "G", description = "Columns per group; 32, the GGUF block (default 32).")
    int group = GgmlBlocks.GROUP;

    @Option(names = "--sym", description = "Symmetric grid (Q4_0/Q5_0) instead of asymmetric (Q4_1/Q5_1).")
    boolean sym;

    @Option(names = "--calibration", paramLabel = "FILE", description = "Calibration text (UTF-8; BOS once at the start).")
    Path calibration;

    @Option(names = "--calibration-ids", paramLabel = "FILE", description = "Calibration token ids (integers separated by spaces, commas or newlines).")
    Path calibrationIds;

    @Option(names = "--imatrix-out", paramLabel = "FILE", description = "Also write the float model's importance matrix"
            + " on the calibration text (llama.cpp's legacy imatrix.dat, for llama-quantize --imatrix); decoders only.")
    Path imatrixOut;

    @Option(names = "--imatrix", paramLabel = "FILE", description = "rtn, awq on decoders: read each site's statistics"
            + " from this importance matrix (llama-imatrix's GGUF or legacy imatrix.dat, or --imatrix-out's) instead of"
            + " calibration text: rtn weighs its clipping search by E[x²]·sqrt(σ² + w²) as llama-quantize does (MSE"
            + " search unless --minmax), awq searches its scales with sqrt(E[x²]) and H = diag(2E[x²]).")
    Path imatrix;

    @Option(names = "--awq-scales", paramLabel = "S", description = "awq, awq-gptq: 'site' (default; one exponent α of"
            + " s = mean|x|^α per input site), 'group' (one per --group input channels) or N (one per N input channels);"
            + " per-group exponents start from the site's and keep a change only if it lowers the objective.")
    String awqScales = "site";

    @Option(names = "--awq-clip", paramLabel = "C", description = "awq: 'two-sided' (default; the two ends of each"
            + " group shrunk independently, on asymmetric grids) or 'symmetric' (llm-awq's clipping search, ±max|w|"
            + " shrunk).")
    String awqClip;

    @Option(names = "--ctx", paramLabel = "N", description = "Calibration window in tokens (default min(512, context length)).")
    Integer ctx;

    @Option(names = "--damp", paramLabel = "X", description = "GPTQ/BoA damping as a fraction of mean diag H (default 0.01).")
    double damp = 0.01;

    @Option(names = "--no-act-order", description = "GPTQ: columns in their stored order with dynamic groups (default:"
            + " act-order, columns by decreasing H[j][j], with static groups).")
    boolean noActOrder;

    @Option(names = "--mse", description = "Fit each block's grid with the MSE clipping search. The default of gptq, boa,"
            + " aespa, awq-gptq and mixed on decoders; rtn, awq and encoders default to --minmax.")
    boolean mse;

    @Option(names = "--clip", paramLabel = "C", description = "The MSE grid search (--mse and its defaults) on"
            + " asymmetric grids: 'symmetric' (default; both ends of a block's range shrunk by one factor, GPTQ's search)"
            + " or 'two-sided' (each end shrunk by its own factor). Symmetric grids (--sym) always use one factor.")
    String clipSearch;

    @Option(names = "--minmax", description = "Fit each block's grid to its min/max (no clipping search); see --mse.")
    boolean minmax;

    @Option(names = "--aespa-steps", paramLabel = "N", description = "aespa: AdaRound iterations per layer (default 2000).")
    int aespaSteps = 2000;

    @Option(names = "--one-pass", description = "Encoders: one calibration pass per block for all its linears (faster;"
            + " default: one pass per input site, each on the block's already quantized earlier linears).")
    boolean onePass;

    @Option(names = "--propagation", paramLabel = "A", description = "Decoders, calibrated methods: error propagation"
            + " strength in [0, 1]; each linear is fitted to the unquantized model's output, W + A·W·D·(H + λI)⁻¹"
            + " (0 = plain layer-wise targets; default 0.5).")
    Double propagation;

    @Option(names = "--awq-objective", paramLabel = "O", description = "awq, awq-gptq: what the scale search of q/k/v"
            + " and gate/up minimises: linear (default; each linear's output error), linear-float (each linear's error"
            + " against the unquantized model's output of it; needs --propagation > 0), block (llm-awq's: the attention"
            + " block's or MLP's output; for an MoE layer's one scale of router and experts, the layer's output),"
            + " block-float (the block output against the unquantized model's; needs --propagation > 0).")
    String awqObjective = "linear";

    @Option(names = "--awq-joint-clip", description = "awq only (awq-gptq does not clip): score each scale of the search with its clipped weights"
            + " (default: clip once after the search, as llm-awq).")
    boolean awqJointClip;

    @Option(names = "--target-kld", paramLabel = "X", description = "mixed: the fewest bits whose mean KL divergence from"
            + " the unquantized model on the calibration text is at most X.")
    Double targetKld;

    Integer run(Path model, Path out, PrintWriter o) throws IOException {
        boolean builtIn = model.toString().equals(EncoderQuantize.DEFAULT);
        if (!builtIn) {
            Flags.exists(model, "--model");
        }
        boolean mixed = method.equalsIgnoreCase("mixed");
        SiteQuantizer.Method m = mixed ? SiteQuantizer.Method.GPTQ : SiteQuantizer.Method.parse(method);
        Flags.require(!(mse && minmax), "--mse", "absent with --minmax (give one)", mse);
        boolean encoder = builtIn || EncoderQuantize.isEncoder(model);
        // an importance matrix weighs RTN's clipping search, so RTN with one searches unless told --minmax
        ClipSearch clip = mse || (!minmax && !encoder && (mseByDefault(m) || imatrix != null && m == SiteQuantizer.Method.RTN))
                ? ClipSearch.MSE : ClipSearch.NONE;
        Flags.require(clipSearch == null || clipSearch.equals("symmetric") || clipSearch.equals("two-sided"), "--clip",
                "symmetric or two-sided", clipSearch);
        Flags.require(clipSearch == null || clip != ClipSearch.NONE, "--clip", "given with the MSE grid search (--mse, or the"
                + " default of gptq, boa, aespa, awq-gptq and mixed on decoders), not with min/max grids", clipSearch);
        if ("two-sided".equals(clipSearch)) {
            clip = clip.withTwoSided(true);
        }
        int awqGroup = awqGroup(m);
        Flags.require(format == null || bits == null && !sym, "--format", "given without --bits and --sym", format);
        Flags.require(!mixed || format == null && bits == null && !sym, "--method mixed",
                "given without --bits, --sym and --format (its formats are --ladder)", "--method mixed");
        Flags.require(mixed || ladder == null, "--ladder", "given with --method mixed only", ladder);
        Flags.require(out != null || evalText != null, "--out", "given (or --eval FILE to evaluate in memory only)",
                "neither");
        LadderFormat fmt = format != null ? LadderFormat.parse(format) : null;
        // A file must hold GGUF types: with --out the default ladder stops at q4_0, and a given one is checked now,
        // not after the runs.
        List<LadderFormat> rungs = mixed ? LadderFormat.ladder(ladder != null ? ladder
                : out != null ? LadderFormat.GGUF_LADDER : LadderFormat.DEFAULT_LADDER) : null;
        if (rungs != null && out != null) {
            for (LadderFormat f : rungs) {
                if (f.type() == null) {
                    throw unwritable("the linears --ladder puts at " + f.name(), f);
                }
            }
        }
        Flags.require(group == GgmlBlocks.GROUP || fmt == null && !mixed, "--group",
                GgmlBlocks.GROUP + " with --format and --method mixed (their formats have groups of 32)", group);
        QuantScheme scheme = fmt != null ? fmt.scheme(clip) : mixed ? rungs.get(rungs.size() - 1).scheme(clip)
                : GgmlBlocks.scheme(bits != null ? bits : 4, group, sym, clip);
        if (fmt != null && fmt.type() == null && out != null) {
            throw unwritable("every block linear", fmt);
        }
        if (calibration != null && calibrationIds != null) {
            throw new IllegalArgumentException("--calibration and --calibration-ids: give one");
        }
        if (imatrix != null) {
            Flags.exists(imatrix, "--imatrix");
            Flags.require(!encoder, "--imatrix", "absent for an encoder (decoders only)", imatrix);
            Flags.require(calibration == null && calibrationIds == null, "--imatrix",
                    "given instead of --calibration/--calibration-ids (it replaces them)", imatrix);
            Flags.require(m == SiteQuantizer.Method.RTN || m == SiteQuantizer.Method.AWQ && !mixed, "--imatrix",
                    "given with --method rtn or awq (the other methods need a full Hessian: give --calibration)",
                    "--method " + method);
            Flags.require(m != SiteQuantizer.Method.RTN || clip != ClipSearch.NONE, "--imatrix",
                    "given without --minmax for rtn (it weighs the clipping search, which --minmax turns off)", imatrix);
        }
        if (calibration == null && calibrationIds == null && imatrix == null && m != SiteQuantizer.Method.RTN) {
            throw new IllegalArgumentException("--method " + method + " needs --calibration FILE (or --calibration-ids FILE)");
        }
        if (calibration != null) {
            Flags.file(calibration, "--calibration", "a UTF-8 text file");
        }
        Flags.require(imatrixOut == null || calibration != null || calibrationIds != null, "--imatrix-out",
                "given with --calibration or --calibration-ids", imatrixOut);
        if (calibrationIds != null) {
            Flags.file(calibrationIds, "--calibration-ids", "a file of token ids");
        }
        Flags.require(mixed || targetKld == null && targetBits == null, "--target-kld and --target-bits",
                "given with --method mixed only", "--method " + method);
        Flags.require(!mixed || (targetKld == null) != (targetBits == null), "--method mixed",
                "given one of --target-kld X and --target-bits B", "both or neither");
        Flags.require(targetKld == null || targetKld > 0, "--target-kld", "> 0", targetKld);
        Flags.require(targetBits == null || targetBits >= rungs.get(rungs.size() - 1).bitsPerWeight(), "--target-bits",
                "at least the ladder's fewest bits per weight (" + (rungs == null ? "" : rungs.get(rungs.size() - 1)
                        .describe()) + ")", targetBits);
        if (evalText != null) {
            Flags.file(evalText, "--eval", "a UTF-8 text file");
        }
        Flags.require(damp >= 0, "--damp", ">= 0", damp);
        Flags.require(propagation == null || (propagation >= 0 && propagation <= 1), "--propagation", "in [0, 1]",
                propagation);
        Flags.require(propagation == null || m != SiteQuantizer.Method.RTN, "--propagation", "absent with --method rtn"
                + " (round-to-nearest has no calibration target)", propagation);
        Flags.require(propagation == null || !mixed, "--propagation", "absent with --method mixed (it uses the default)",
                propagation);
        Flags.require(aespaSteps >= 0, "--aespa-steps", ">= 0", aespaSteps);
        if (ctx != null) {
            Flags.require(ctx >= 2, "--ctx", ">= 2", ctx);
        }
        SiteQuantizer.AwqObjective awqObj = SiteQuantizer.AwqObjective.parse(awqObjective);
        Flags.require(m.awq() || awqObj == SiteQuantizer.AwqObjective.LINEAR, "--awq-objective",
                "linear (the default) unless --method is awq or awq-gptq", awqObjective);
        // awq-gptq rounds with GPTQ and never clips, so a clip-aware scale search would silently do nothing there.
        Flags.require(!awqJointClip || m == SiteQuantizer.Method.AWQ, "--awq-joint-clip",
                "absent unless --method is awq (awq-gptq does not clip)", "--method " + method);
        Flags.require(imatrix == null || awqObj == SiteQuantizer.AwqObjective.LINEAR, "--awq-objective",
                "linear (the default) with --imatrix (no calibration tokens run through the model)", awqObjective);
        Flags.require(awqObj != SiteQuantizer.AwqObjective.BLOCK_FLOAT && awqObj != SiteQuantizer.AwqObjective.LINEAR_FLOAT
                || propagation == null || propagation > 0, "--awq-objective",
                "not block-float or linear-float with --propagation 0 (no unquantized states are carried)",
                awqObjective);
        GptqOptions gptq = new GptqOptions(damp, 128, !noActOrder, !noActOrder);
        Flags.require(awqClip == null || awqClip.equals("symmetric") || awqClip.equals("two-sided"), "--awq-clip",
                "symmetric or two-sided", awqClip);
        Flags.require(awqClip == null || m == SiteQuantizer.Method.AWQ, "--awq-clip",
                "absent unless --method is awq (awq-gptq does not clip)", awqClip);
        // two-sided by default: it lowered AWQ's error on stories260K and bge-small-en-v1.5 (BENCHMARKS §34)
        boolean twoSided = m == SiteQuantizer.Method.AWQ && !"symmetric".equals(awqClip);
        SiteQuantizer.Options opt = new SiteQuantizer.Options(m, scheme, gptq,
                Aespa.Options.QKV.withIterations(aespaSteps), true, awqObj, awqJointClip, awqGroup, imatrix != null,
                twoSided);
        if (encoder) {
            Flags.require(!mixed, "--method", "rtn, gptq, awq, boa or aespa for an encoder (mixed needs a decoder's"
                    + " KL divergence)", method);
            Flags.require(propagation == null, "--propagation", "absent for an encoder (decoders only)", propagation);
            Flags.require(awqObj == SiteQuantizer.AwqObjective.LINEAR, "--awq-objective",
                    "linear (the default) for an encoder (the other objectives are decoders only)", awqObjective);
            Flags.require(!awqJointClip, "--awq-joint-clip", "absent for an encoder (decoders only)", "the flag");
            Flags.require(imatrixOut == null, "--imatrix-out", "absent for an encoder (decoders only)", imatrixOut);
            Flags.require(calibrationIds == null, "--calibration-ids", "absent for an encoder (give --calibration with"
                    + " one text per line)", calibrationIds);
            Flags.require(format == null && evalText == null && out != null, "--format and --eval", "absent and --out"
                    + " given for an encoder (decoders only)", "the flags");
            return EncoderQuantize.run(this, model, out, o, opt);
        }
        try (LoadedModel loaded = ModelInput.open(model); GgufFile file = Gguf.open(model)) {
            int[] calib = calibrationIds != null ? readIds(calibrationIds, loaded)
                    : calibration != null ? ModelInput.tokenizer(loaded, model)
                    .encode(Files.readString(calibration, StandardCharsets.UTF_8)) : null;
            int window = ctx != null ? ctx : Math.min(512, loaded.requireLm().contextLength());
            // The held-out text is checked before the (long) quantization, not after it.
            int[] heldOut = evalText == null ? null
                    : ModelInput.tokenizer(loaded, model).encode(Files.readString(evalText, StandardCharsets.UTF_8));
            if (heldOut != null && (heldOut.length < window || window > loaded.requireLm().contextLength())) {
                throw new IllegalArgumentException("--eval " + evalText + ": " + heldOut.length + " tokens; needs at"
                        + " least one window of " + window + " tokens within the model's context of "
                        + loaded.requireLm().contextLength() + " (give a longer text or a smaller --ctx)");
            }
            if (imatrixOut != null) {
                Path source = calibration != null ? calibration : calibrationIds;
                int n = Imatrix.export(file, calib, window, imatrixOut, source.getFileName().toString()).size();
                System.err.println("wrote " + imatrixOut + ": importance matrix of " + n + " linears");
            }
            long t0 = System.nanoTime();
            SequentialQuantizer.Result r;
            String label;
            if (mixed) {
                MixedQuantizer.Result mr = MixedQuantizer.run(file, calib, window, opt, rungs, targetKld, targetBits,
                        System.err::println);
                r = mr.result();
                label = "mixed " + mr.describe();
            } else if (imatrix != null) {
                r = SequentialQuantizer.run(file, Imatrix.read(imatrix), opt, System.err::println);
                label = SiteQuantizer.describe(opt) + ", statistics of importance matrix " + imatrix.getFileName();
            } else {
                r = SequentialQuantizer.run(file, calib, window, opt, propagation != null ? propagation
                        : SequentialQuantizer.DEFAULT_PROPAGATION, System.err::println);
                label = SiteQuantizer.describe(opt) + (m == SiteQuantizer.Method.RTN ? "" : String.format(Locale.ROOT,
                        ", error propagation %.2f", propagation != null ? propagation
                                : SequentialQuantizer.DEFAULT_PROPAGATION));
            }
            double total = (System.nanoTime() - t0) / 1e9;
            String what = mixed ? "ladder " + rungs.stream().map(LadderFormat::name).toList()
                    : (fmt != null ? fmt : LadderFormat.of(scheme)).describe();
            summary(o, r, label, what, calibration != null || calibrationIds != null ? String.format(Locale.ROOT,
                    "; calibration %d tokens in windows of %d", r.calibrationTokens(), window) : "", total, -1, file);
            if (out != null) {
                for (var e : r.quantized().entrySet()) {   // a format no GGUF type stores: say which, and what works
                    LadderFormat f = LadderFormat.of(e.getValue().scheme());
                    if (f == null || f.type() == null) {
                        throw unwritable(e.getKey(), f);
                    }
                }
                long bytes = QuantizedGguf.write(file, out, r.quantized(), r.replacedF32(), label);
                o.printf(Locale.ROOT, "wrote %s: %,d bytes, whole file %.3f bits per weight%n", out, bytes,
                        8.0 * bytes / parameters(file));
                o.flush();
            }
            if (heldOut != null) {                      // after writing: a failed evaluation loses no file
                EvalCommand.print(o, heldOut.length, LmEval.evaluate(MixedQuantizer.inMemory(file, r),
                        loaded.requireLm(), heldOut, window), true);
            }
        }
        return 0;
    }

    // the error for a tensor in a format that no GGUF type stores, with what does work
    private IllegalArgumentException unwritable(String tensor, LadderFormat f) {
        return new IllegalArgumentException("cannot write " + tensor + " as " + (f == null ? "its format" : f.describe())
                + ": no GGUF type stores it, so llama.cpp and ./interlayer could not load the file. Evaluate it in memory"
                + " with --eval FILE (without --out), or keep to GGUF formats: --format/--ladder from q8_0, q5_0, q5_1,"
                + " q4_0, q4_1" + (ladder != null || format != null ? "" : " (e.g. --ladder q8_0,q5_0,q4_0)"));
    }

    private static long parameters(GgufFile file) {
        long params = 0;
        for (var t : file.tensorInfos()) {
            params += t.elements();
        }
        return params;
    }

    /** The summary; {@code bytes < 0}: nothing written (yet). */
    void summary(PrintWriter o, SequentialQuantizer.Result r, String label, String formats, String calibrationNote,
                 double total, long bytes, GgufFile file) {
        o.printf(Locale.ROOT, "method %s; %s%s%n", label, formats, calibrationNote);
        o.printf(Locale.ROOT, "%-5s %-26s %-12s %-6s %-12s %s%n", "layer", "linear", "shape", "format", "rel. error",
                "solver time");
        long params = parameters(file), qParams = 0;
        double solver = 0, qBits = 0;
        for (SequentialQuantizer.LayerReport l : r.layers()) {
            double errSum = 0;
            int k = 0;
            for (SequentialQuantizer.LinearReport lr : l.linears()) {
                // a stack of experts [E, rows, cols] is reported as its [E·rows, cols]: show the tensor's own shape
                String shape = file.contains(lr.name()) && file.info(lr.name()).shape().rank() == 3
                        ? file.info(lr.name()).shape().dim(0) + "x" + lr.rows() / file.info(lr.name()).shape().dim(0)
                        + "x" + lr.cols() : lr.rows() + "x" + lr.cols();
                if (lr.quantized()) {
                    LadderFormat f = LadderFormat.of(r.quantized().get(lr.name()).scheme());
                    o.printf(Locale.ROOT, "%-5d %-26s %-12s %-6s %-12.4e %.2f s%n", l.layer(), lr.name(), shape,
                            f == null ? r.quantized().get(lr.name()).scheme().bits() + "-bit" : f.name(), lr.relError(),
                            lr.seconds());
                    errSum += lr.relError();
                    k++;
                    qParams += (long) lr.rows() * lr.cols();
                    // exact per linear (mixed: each its own format): codes, fp16 scales, offsets or zeros
                    qBits += r.quantized().get(lr.name()).bitsPerWeight() * lr.rows() * lr.cols();
                } else {
                    o.printf(Locale.ROOT, "%-5d %-26s %-12s %s%n", l.layer(), lr.name(), shape, lr.note());
                }
            }
            o.printf(Locale.ROOT, "layer %d: %.2f s (%.2f s quantizing, %.2f s calibration passes), mean rel. error %.4e%n",
                    l.layer(), l.seconds(), l.seconds() - l.calibrationSeconds(), l.calibrationSeconds(),
                    k == 0 ? 0 : errSum / k);
            solver += l.seconds() - l.calibrationSeconds();
        }
        int layers = Math.max(1, r.layers().size());
        o.printf(Locale.ROOT, "time %.1f s (%.2f s per layer, of which quantizing %.2f s per layer); %,d of %,d parameters"
                        + " quantized at %.3f bits per weight%s%n", total, total / layers, solver / layers,
                qParams, params, qParams == 0 ? 0 : qBits / qParams, bytes < 0 ? "" : String.format(Locale.ROOT,
                        "; wrote %,d bytes, whole file %.3f bits per weight", bytes, 8.0 * bytes / params));
        o.flush();
    }

    // --awq-scales as channels per exponent group (0: one per site)
    private int awqGroup(SiteQuantizer.Method m) {
        int g;
        if (awqScales.equalsIgnoreCase("site")) {
            g = 0;
        } else if (awqScales.equalsIgnoreCase("group")) {
            g = group;
        } else {
            try {
                g = Integer.parseInt(awqScales);
            } catch (NumberFormatException e) {
                g = -1;
            }
            Flags.require(g > 0, "--awq-scales", "site, group or a positive number of input channels", awqScales);
        }
        Flags.require(g == 0 || m.awq(), "--awq-scales", "site (the default) unless --method is awq or awq-gptq",
                awqScales);
        return g;
    }

    private static int[] readIds(Path p, LoadedModel loaded) throws IOException {
        String[] parts = Files.readString(p, StandardCharsets.UTF_8).trim().split("[\\s,]+");
        int vocab = loaded.requireLm().vocabSize();
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--calibration-ids " + p + ": item " + i + " '" + parts[i]
                        + "' is not an integer");
            }
            Flags.require(ids[i] >= 0 && ids[i] < vocab, "--calibration-ids", "token ids in [0, " + vocab + ")",
                    ids[i] + " at item " + i);
        }
        return Arrays.copyOf(ids, ids.length);
    }

    /**
     * Whether a decoder quantized with {@code m} fits its grids with the MSE clipping search unless {@code --minmax}:
     * the methods that round on the block grid with a Hessian (GPTQ, BoA, aespa from GPTQ, awq-gptq; mixed is
     * GPTQ). On stories260K (Q4_1, groups of 32, BENCHMARKS §18) it lowered the held-out KLD of GPTQ and BoA on the
     * 12k-token calibration set (0.0266 → 0.0245, 0.0271 → 0.0255) and on a 713-token one (0.0323 → 0.0293,
     * 0.0310 → 0.0293), where a stronger error propagation overfits. RTN stays plain round-to-nearest (the
     * baseline, as llama.cpp's); AWQ runs its own clipping search, which the MSE grid made worse (0.0289 → 0.0325).
     */
    static boolean mseByDefault(SiteQuantizer.Method m) {
        return m == SiteQuantizer.Method.GPTQ || m == SiteQuantizer.Method.BOA || m == SiteQuantizer.Method.AESPA
                || m == SiteQuantizer.Method.AWQ_GPTQ;
    }
}
