package dev.interlayer.models.cli;

import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.load.LoadedModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code interlayer hidden}: the last hidden state of every input position — after the final norm for
 * decoders (HF {@code last_hidden_state}), the last layer's output for BERT encoders; one sequence,
 * full attention mask, token types 0.
 */
@Command(name = "hidden", mixinStandardHelpOptions = true,
        description = "Print the last hidden state of every input position (decoders: after the final norm, as HF's"
                + " last_hidden_state). PATH: GGUF file, Hugging Face folder or BERT .onnx.")
public final class HiddenCommand extends SequenceCommand {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public HiddenCommand() {
    }

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face folder or .onnx file.")
    Path model;

    @Option(names = "--json", description = "Print {\"tokens\":[...], \"hidden\":[[...], ...]}.")
    boolean json;

    @Override
    int run(LoadedModel loaded, PrintWriter out) throws Exception {
        int[] ids = input.ids(loaded, model);
        HiddenStates m = loaded.hidden();
        int d = m.hiddenSize();
        float[] h = m.hiddenStates(ids);
        StringBuilder sb = new StringBuilder(json ? ModelInput.capacity((long) ids.length * d * 12 + 64) : 256);
        if (json) {
            ModelInput.appendJson(sb, ids, "hidden", h, d);
            out.println(sb);
        } else {
            sb.append(loaded.family()).append(" (").append(loaded.source()).append("), hidden size ").append(d)
                    .append('\n');
            for (int t = 0; t < ids.length; t++) {
                double ss = 0;
                for (int j = 0; j < d; j++) {
                    ss += (double) h[t * d + j] * h[t * d + j];
                }
                sb.append(String.format("position %d token %d: norm %.4f, first %s%n", t, ids[t], Math.sqrt(ss),
                        preview(h, t * d, Math.min(d, 4))));
            }
            out.print(sb);
        }
        return 0;
    }

    private static String preview(float[] a, int off, int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i > 0 ? ", " : "").append(String.format("%.4f", a[off + i]));
        }
        return sb.append(']').toString();
    }
}
