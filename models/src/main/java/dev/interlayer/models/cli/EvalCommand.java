package dev.interlayer.models.cli;

import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.quantize.EmbeddingEval;
import dev.interlayer.models.quantize.LmEval;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./interlayer eval --model PATH --text FILE [--reference PATH] [--ctx N]}: quality of a model on a
 * text. Causal LMs: perplexity over non-overlapping windows of N tokens (the GPTQ protocol) and, with a
 * reference, the KL divergence of next-token distributions (mean, 99th percentile, max) and top-1 agreement.
 * Encoders: with a reference, the embedding cosine per line of the text (min, median, mean) and top-10
 * retrieval overlap.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Perplexity / KL divergence (causal LMs) or embedding cosine (encoders) against a reference.")
public final class EvalCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public EvalCommand() {
    }

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "The model to evaluate.")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "FILE",
            description = "UTF-8 text: one sequence for a causal LM (BOS once at the start), one text per line for an encoder.")
    Path text;

    @Option(names = "--reference", paramLabel = "PATH", description = "The unquantized model to compare with"
            + " ('default': the built-in all-MiniLM-L6-v2).")
    Path reference;

    @Option(names = "--ctx", paramLabel = "N", description = "Window length (default: min(512, context length)).")
    Integer ctx;

    @Override
    public Integer call() throws Exception {
        Flags.exists(model, "--model");
        Flags.file(text, "--text", "a UTF-8 text file");
        if (reference != null && !reference.toString().equals(EncoderQuantize.DEFAULT)) {
            Flags.exists(reference, "--reference");
        }
        if (ctx != null) {
            Flags.require(ctx >= 2, "--ctx", ">= 2", ctx);
        }
        String body = Files.readString(text, StandardCharsets.UTF_8);
        try (LoadedModel m = ModelInput.open(model)) {
            if (m.lm() == null) {
                return encoder(body);
            }
            int[] ids = ModelInput.tokenizer(m, model).encode(body);
            int window = ctx != null ? ctx : Math.min(512, m.lm().contextLength());
            LmEval.Result r;
            if (reference == null) {
                r = LmEval.evaluate(m.lm(), null, ids, window);
            } else {
                try (LoadedModel ref = ModelInput.open(reference)) {
                    r = LmEval.evaluate(m.lm(), ref.requireLm(), ids, window);
                }
            }
            print(new PrintWriter(System.out, true, StandardCharsets.UTF_8), ids.length, r, reference != null);
        }
        return 0;
    }

    /** The report lines of a causal LM's evaluation (also {@code quantize --eval}'s). */
    static void print(PrintWriter out, int tokens, LmEval.Result r, boolean withReference) {
        out.printf(Locale.ROOT, "tokens %d, windows %d x %d (non-overlapping), predictions %d%n", tokens,
                r.windows(), r.ctx(), r.predictions());
        out.printf(Locale.ROOT, "perplexity %.4f%n", r.perplexity());
        if (withReference) {
            out.printf(Locale.ROOT, "reference perplexity %.4f%n", r.referencePerplexity());
            out.printf(Locale.ROOT, "KLD mean %.6f  p99 %.6f  max %.6f%n", r.klMean(), r.kl99(), r.klMax());
            out.printf(Locale.ROOT, "top-1 agreement %.2f%%%n", 100 * r.top1());
        }
        out.flush();
    }

    private int encoder(String body) throws java.io.IOException {
        if (reference == null) {
            throw new IllegalArgumentException("eval: " + model.getFileName() + " is an encoder; its quality is "
                    + "measured against a reference: give --reference PATH");
        }
        List<String> lines = body.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("--text " + text + ": no non-blank lines to embed");
        }
        EmbeddingEval.Result r;
        try (EmbeddingModel a = EmbeddingModel.open(model); EmbeddingModel b = reference.toString().equals(EncoderQuantize.DEFAULT)
                ? EmbeddingModel.defaultModel() : EmbeddingModel.open(reference)) {
            r = EmbeddingEval.compare(a.embed(lines), b.embed(lines));
        }
        System.out.printf(Locale.ROOT, "texts %d%ncosine min %.6f  median %.6f  mean %.6f%ntop-%d overlap %.4f%n",
                r.texts(), r.minCos(), r.medianCos(), r.meanCos(), r.k(), r.topKOverlap());
        return 0;
    }
}
