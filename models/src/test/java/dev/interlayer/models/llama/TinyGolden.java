package dev.interlayer.models.llama;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.Fixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Helpers for the Llama tests around the fixtures of reference/arch/arch_reference.py --extras, which
 * {@link Fixture} reads: an edited copy of an HF folder, and token-by-token logits.
 */
final class TinyGolden {
    private TinyGolden() {
    }

    /** A copy of hf/NAME in {@code dir} with config.json edited by {@code edit}. */
    static Path editedHf(Path dir, String name, Consumer<JsonObject> edit) throws IOException {
        Path src = Fixture.resource("hf/" + name);
        Files.createDirectories(dir);
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        JsonObject c = JsonParser.parseString(Files.readString(src.resolve("config.json"))).getAsJsonObject();
        edit.accept(c);
        Files.writeString(dir.resolve("config.json"), c.toString());
        return dir;
    }

    /** Logits of every position fed one token at a time through {@code s} (rows concatenated). */
    static float[] decodeAll(DecoderLM.Session s, int[] tokens, int vocab) {
        float[] out = new float[tokens.length * vocab];
        for (int t = 0; t < tokens.length; t++) {
            System.arraycopy(s.append(tokens, t, 1), 0, out, t * vocab, vocab);
        }
        return out;
    }
}
