package dev.interlayer.models.cli;

import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.nio.file.Path;

/**
 * Model opening, the tokenizer and JSON output shared by the commands that run a model (input: InputOptions),
 * including the benchmark commands of the {@code bench} module.
 */
public final class ModelInput {
    private ModelInput() {
    }

    /**
     * Opens a model ({@link ModelLoader#open}), with progress on a terminal when that takes over a second, then
     * releases the garbage of the load ({@link ModelLoader#releaseLoadGarbage}).
     *
     * @throws java.io.IOException if the model cannot be read
     */
    public static LoadedModel open(Path model) throws java.io.IOException {
        LoadedModel loaded;
        try (Progress p = Progress.start("loading " + model.getFileName())) {
            loaded = ModelLoader.open(model);
        }
        ModelLoader.releaseLoadGarbage();
        return loaded;
    }

    /**
     * The decoder-only LM behind a loaded model (every decoder family is a DecoderLM over an nn DecoderStack).
     *
     * @throws IllegalArgumentException naming {@code command} and the family if the model is not one
     */
    public static DecoderLM decoder(LoadedModel loaded, String command) {
        if (!(loaded.lm() instanceof DecoderLM lm)) {
            throw new IllegalArgumentException(command + " needs a decoder-only language model; family '"
                    + loaded.family() + "' is not one");
        }
        return lm;
    }

    // The model's tokenizer, or an error telling the user to pass --tokens.
    static Tokenizer tokenizer(LoadedModel loaded, Path model) {
        return loaded.optionalTokenizer().orElseThrow(() -> new IllegalArgumentException(model.getFileName()
                + " has no tokenizer (no tokenizer.json / GGUF tokenizer metadata); use --tokens"));
    }

    // A StringBuilder presize for an estimated output length: the estimate as a long (T·vocab·chars overflows
    // int for long inputs), capped at 16M chars so a huge output grows as it is written instead of being
    // reserved up front.
    static int capacity(long estimate) {
        return (int) Math.min(estimate, 1 << 24);
    }

    // Appends {"tokens":[ids...], "<key>":[[row 0], [row 1], ...]} for rows[ids.length, cols]; non-finite -> null.
    static void appendJson(StringBuilder sb, int[] ids, String key, float[] rows, int cols) {
        sb.append("{\"tokens\":[");
        appendIds(sb, ids);
        sb.append("], \"").append(key).append("\":[");
        for (int t = 0; t < ids.length; t++) {
            sb.append(t > 0 ? ", [" : "[");
            for (int j = 0; j < cols; j++) {
                float v = rows[t * cols + j];
                sb.append(j > 0 ? "," : "").append(Float.isFinite(v) ? Float.toString(v) : "null");
            }
            sb.append(']');
        }
        sb.append("]}");
    }

    // Appends ids comma-separated without spaces: 1,403,407.
    static void appendIds(StringBuilder sb, int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            sb.append(i > 0 ? "," : "").append(ids[i]);
        }
    }
}
