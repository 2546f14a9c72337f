package dev.interlayer.models.cli;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.load.LoadedModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code interlayer logits}: raw logits of every input position (for comparison with other engines). */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print the raw logits of every input position (no BOS is added to --tokens).")
public final class LogitsCommand extends SequenceCommand {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public LogitsCommand() {
    }

    @Option(names = "--model", required = true,
            description = "GGUF file or Hugging Face folder (llama, mistral, qwen2, gemma2/3, olmo2, gpt2).")
    Path model;

    @Option(names = "--json", description = "Print {\"tokens\":[...], \"logits\":[[...], ...]}.")
    boolean json;

    @Option(names = "--top", defaultValue = "5", description = "Without --json: top entries per position.")
    int top;

    @Override
    int run(LoadedModel loaded, PrintWriter out) throws Exception {
        CausalLM m = loaded.requireLm();
        int[] ids = input.ids(loaded, model);
        int vocab = m.vocabSize();
        float[] logits = m.newSession(ids.length).appendAll(ids, 0, ids.length);
        StringBuilder sb = new StringBuilder(json ? ModelInput.capacity((long) ids.length * vocab * 10 + 64) : 256);
        if (json) {
            ModelInput.appendJson(sb, ids, "logits", logits, vocab);
            out.println(sb);
        } else {
            for (int t = 0; t < ids.length; t++) {
                sb.append("position ").append(t).append(" token ").append(ids[t]).append(':');
                boolean[] used = new boolean[vocab];
                for (int k = 0; k < Math.min(top, vocab); k++) {
                    int best = -1;
                    for (int j = 0; j < vocab; j++) {
                        if (!used[j] && (best < 0 || logits[t * vocab + j] > logits[t * vocab + best])) {
                            best = j;
                        }
                    }
                    used[best] = true;
                    sb.append(String.format(" %d (%.4f)", best, logits[t * vocab + best]));
                }
                sb.append('\n');
            }
            out.print(sb);
        }
        return 0;
    }
}
