package dev.interlayer.models.cli;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufQuantize;
import dev.interlayer.models.io.QuantPreset;
import dev.interlayer.models.quantize.Imatrix;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code interlayer quantize}: a GGUF model with F32/F16/BF16 weights to Q8_0 … Q6_K or a K-quant mix (Q2_K … Q5_K_M) with
 * ggml's reference rounding ({@code --type}), or with {@code --type} and {@code --imatrix} llama-quantize's
 * importance-weighted rounding ({@link #importance}), or with a calibrated quantizer ({@code --method}, see
 * {@link CalibratedQuantize}) into Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 blocks, per linear with {@code --method mixed}, or into
 * plain grouped ints without a GGUF type that are evaluated in memory ({@code --format i4|i3|i2}, {@code --eval}).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a GGUF model (F32/F16/BF16 weights): --type PRESET with ggml's reference rounding, or"
                + " --method rtn|gptq|awq|boa|aespa|mixed with calibration text into GGUF blocks; prints bits per"
                + " weight (and with --method per-layer error and time).")
public final class QuantizeCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public QuantizeCommand() {
    }

    @Spec
    CommandSpec spec;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--model", required = true, description = "Input GGUF file; with --method also a BERT encoder: GGUF, ONNX (tokenizer.json next to it) or 'default' (the built-in all-MiniLM-L6-v2).")
    Path model;

    @Option(names = "--type",
            description = "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M or"
                    + " Q6_K (plain rounding; with --imatrix FILE llama-quantize's importance-weighted rounding).")
    String type;

    @Mixin
    CalibratedQuantize calibrated;

    @Option(names = "--out", description = "Output GGUF file (required unless --method with --eval).")
    Path out;

    @Option(names = "--pure",
            description = "Every 2-D weight in the base type (no K-quant mix), like llama-quantize --pure.")
    boolean pure;

    @Option(names = "--list", description = "Also print every tensor's type change.")
    boolean list;

    @Override
    public Integer call() throws Exception {
        if ((type == null) == (calibrated.method == null)) {
            throw new IllegalArgumentException("quantize: give exactly one of --type PRESET (plain rounding) and"
                    + " --method rtn|gptq|awq|boa|aespa|mixed (calibrated)");
        }
        // the input stays mapped while the output is written: writing over it would truncate what is being read
        if (out != null && Files.exists(model) && Files.exists(out) && Files.isSameFile(model, out)) {
            throw new IllegalArgumentException("quantize: --out " + out + " is the input file; write to another path");
        }
        PrintWriter o = spec.commandLine().getOut();
        if (calibrated.method != null) {
            threads.apply();
            return calibrated.run(model, out, o);
        }
        Flags.require(out != null, "--out", "given with --type", "none");
        QuantPreset preset = QuantPreset.parse(type);
        GgufQuantize.Importance importance = null;
        GgufQuantize.Provenance provenance = null;
        if (calibrated.imatrix != null) {
            Flags.exists(calibrated.imatrix, "--imatrix");
            Imatrix m = Imatrix.read(calibrated.imatrix);
            importance = importance(m);
            provenance = importance == null ? null : provenance(m, imatrixArgument());
        }
        threads.apply();
        // Progress on stderr only when it is a terminal (pipes and logs stay clean), as for every long command.
        try (GgufFile in = Gguf.open(model);
             Progress progress = Progress.start("quantizing " + model.getFileName() + " to " + preset, 1.0)) {
            GgufQuantize.Summary s = GgufQuantize.quantize(in, out, preset, pure, importance, provenance,
                    (f, name) -> progress.update(f));
            if (list) {
                s.lines().forEach(o::println);
            }
            o.printf("wrote %s: %s%s%s, %,d bytes; %,d of %,d parameters quantized at %.3f bits per weight;"
                            + " whole file %.3f bits per weight%n", out, preset, pure ? " (pure)" : "",
                    importance != null ? " (importance matrix " + calibrated.imatrix.getFileName() + ")" : "",
                    s.fileBytes(),
                    s.quantizedParameters(), s.parameters(), s.quantizedBpw(), s.fileBpw());
            o.flush();
        }
        return 0;
    }

    /**
     * What llama-quantize records of importance matrix {@code m} given as {@code argument}: the argument, the data
     * set, the number of entries and the chunk count. Only with entries (see {@link #importance}): llama-quantize
     * writes the keys only when it uses the matrix.
     */
    static GgufQuantize.Provenance provenance(Imatrix m, String argument) {
        return new GgufQuantize.Provenance(argument, m.dataset(), m.meanSquares().size(), m.chunks());
    }

    /**
     * {@code --imatrix} exactly as typed: llama-quantize stores the command-line string, and a {@link Path} would
     * normalise it (e.g. {@code a//b} to {@code a/b}).
     */
    private String imatrixArgument() {
        var pr = spec.commandLine().getParseResult();
        var opt = pr == null ? null : pr.matchedOption("--imatrix");
        List<String> raw = opt == null ? List.of() : opt.originalStringValues();
        return raw.isEmpty() ? calibrated.imatrix.toString() : raw.get(raw.size() - 1);
    }

    /**
     * llama-quantize's use of an importance matrix for {@code --type}: a tensor with an entry is rounded with its
     * {@code E[x²]} (per expert for MoE tensors); a tensor without one, such as {@code token_embd} (read by row
     * lookup, so llama-imatrix never sees its input), is rounded unweighted; an entry whose length does not fit its
     * tensor is refused naming file and tensor, except for {@code token_embd}, which llama.cpp then rounds
     * unweighted. An imatrix without entries is no imatrix (llama-quantize ignores it), so the Q4_0/Q5_0 type rule
     * for imatrix runs does not apply then.
     */
    static GgufQuantize.Importance importance(Imatrix m) {
        if (m.meanSquares().isEmpty()) {
            return null;
        }
        return (name, columns, experts) -> {
            double[] e = m.meanSquares().get(name);
            int want = columns * experts;
            if (e == null || (e.length != want && name.equals("token_embd.weight"))) {
                return null;
            }
            double[] v = m.site(List.of(name), want);     // refuses a wrong length or a non-finite or negative value
            float[] f = new float[want];
            for (int j = 0; j < want; j++) {
                f[j] = (float) v[j];      // float ÷ count in double, rounded once: llama-quantize's float division
            }
            return f;
        };
    }
}
