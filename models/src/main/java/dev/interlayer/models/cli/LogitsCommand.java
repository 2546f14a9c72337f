package dev.interlayer.models.cli;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.llama.LlamaModel;
import dev.interlayer.models.tokenizer.Tokenizers;
import dev.interlayer.tensor.ComputePool;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code interlayer logits}: raw logits of every input position (for comparison with other engines). */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print the raw logits of every input position (no BOS is added to --tokens).")
public final class LogitsCommand implements CliCommand, Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "GGUF model file.")
    Path model;

    @Option(names = "--tokens", split = ",", description = "Input token ids, e.g. 1,2,3.")
    int[] tokens;

    @Option(names = "--prompt", description = "Input text, tokenized with the model's tokenizer (adds BOS as it says).")
    String prompt;

    @Option(names = "--json", description = "Print {\"tokens\":[...], \"logits\":[[...], ...]}.")
    boolean json;

    @Option(names = "--top", defaultValue = "5", description = "Without --json: top entries per position.")
    int top;

    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (tokens == null)) {
            throw new IllegalArgumentException("give exactly one of --tokens or --prompt");
        }
        if (threads != null) {
            ComputePool.setThreads(threads);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile file = Gguf.open(model)) {
            LlamaModel m = LlamaModel.load(file);
            int[] ids = tokens != null ? tokens : Tokenizers.fromGguf(file).encode(prompt);
            if (ids.length == 0) {
                throw new IllegalArgumentException("no input tokens");
            }
            int vocab = m.vocabSize();
            float[] logits = m.newSession(ids.length).appendAll(ids, 0, ids.length);
            StringBuilder sb = new StringBuilder(ids.length * vocab * 10 + 64);
            if (json) {
                sb.append("{\"tokens\":[");
                for (int i = 0; i < ids.length; i++) {
                    sb.append(i > 0 ? "," : "").append(ids[i]);
                }
                sb.append("], \"logits\":[");
                for (int t = 0; t < ids.length; t++) {
                    sb.append(t > 0 ? ", [" : "[");
                    for (int j = 0; j < vocab; j++) {
                        float v = logits[t * vocab + j];
                        sb.append(j > 0 ? "," : "").append(Float.isFinite(v) ? Float.toString(v) : "null");
                    }
                    sb.append(']');
                }
                sb.append("]}");
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
            out.flush();
        }
        return 0;
    }
}
