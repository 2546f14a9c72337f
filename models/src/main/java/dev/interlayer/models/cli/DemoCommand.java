package dev.interlayer.models.cli;

import dev.interlayer.models.embed.EmbeddingModel;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code ./interlayer demo}: embeds a few fixed sentences with the default model
 * (all-MiniLM-L6-v2 from the Maven jar, no download) and prints their cosine-similarity matrix and
 * timings.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Embed a few sentences with the default model (all-MiniLM-L6-v2, shipped in a Maven jar) "
                + "and print their cosine-similarity matrix.")
public final class DemoCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public DemoCommand() {
    }

    static final List<String> SENTENCES = List.of(
            "The cat sits on the mat.",
            "A kitten is resting on a rug.",
            "Stock markets fell sharply after the announcement.",
            "Investors sold shares as prices dropped.",
            "How do I bake sourdough bread at home?");

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        long t0 = System.nanoTime();
        EmbeddingModel loaded;
        try (Progress p = Progress.start("loading all-MiniLM-L6-v2")) {
            loaded = EmbeddingModel.defaultModel();
        }
        try (EmbeddingModel model = loaded) {
            long t1 = System.nanoTime();
            // what is known already goes out first: the user sees output while the first embed call compiles
            out.printf(Locale.ROOT, "Model: all-MiniLM-L6-v2 (BERT, %d layers, dim %d, max %d tokens), mean pooling, "
                    + "L2-normalised%n%n", model.bert().config().layers(), model.dimension(), model.maxTokens());
            for (int i = 0; i < SENTENCES.size(); i++) {
                out.printf(Locale.ROOT, "  [%d] %s%n", i + 1, SENTENCES.get(i));
            }
            out.println();
            out.flush();
            List<float[]> e;
            try (Progress p = Progress.start("embedding")) {
                e = model.embed(SENTENCES);
            }
            long t2 = System.nanoTime();
            out.println("Cosine similarity:");
            StringBuilder head = new StringBuilder("      ");
            for (int j = 0; j < e.size(); j++) {
                head.append(String.format(Locale.ROOT, "%8s", "[" + (j + 1) + "]"));
            }
            out.println(head);
            for (int i = 0; i < e.size(); i++) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-4s", "[" + (i + 1) + "]"));
                for (int j = 0; j < e.size(); j++) {
                    row.append(String.format(Locale.ROOT, "%8.3f", EmbeddingModel.cosine(e.get(i), e.get(j))));
                }
                out.println(row);
            }
            out.println();
            out.printf(Locale.ROOT, "Load %.0f ms, embed %d sentences %.0f ms (first call, includes JIT warm-up)%n",
                    (t1 - t0) / 1e6, SENTENCES.size(), (t2 - t1) / 1e6);
        }
        return 0;
    }
}
