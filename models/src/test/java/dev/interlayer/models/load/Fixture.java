package dev.interlayer.models.load;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.tensor.testing.Diffs;
import dev.interlayer.tensor.testing.JsonArrays;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Golden fixtures of reference/arch/arch_reference.py and paths of the tiny test models (shared by the model tests). */
public final class Fixture {
    private Fixture() {
    }

    public static JsonObject golden(String name) throws IOException {
        return json("/golden/arch/" + name + ".json");
    }

    /** The JSON object in the test resource {@code resource}, an absolute class-path name such as "/golden/x.json". */
    public static JsonObject json(String resource) throws IOException {
        try (InputStream in = Fixture.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("missing test resource " + resource);
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    public static Path resource(String relative) {
        try {
            return Path.of(Fixture.class.getResource("/" + relative).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A copy of the tiny HF folder hf/{@code name} (model.safetensors and config.json) in {@code dir} (created if
     * absent), its config.json edited by {@code edit} first: for tests of config keys the fixtures do not vary.
     */
    public static Path editedHf(Path dir, String name, Consumer<JsonObject> edit) throws IOException {
        Path src = resource("hf/" + name);
        Files.createDirectories(dir);
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        JsonObject c = JsonParser.parseString(Files.readString(src.resolve("config.json"))).getAsJsonObject();
        edit.accept(c);
        Files.writeString(dir.resolve("config.json"), c.toString());
        return dir;
    }

    public static int[] ints(JsonObject o, String key) {
        return JsonArrays.ints(o.getAsJsonArray(key));
    }

    /** A [rows][cols] matrix flattened row-major. */
    public static float[] matrix(JsonObject o, String key) {
        JsonArray rows = o.getAsJsonArray(key);
        int cols = rows.get(0).getAsJsonArray().size();
        float[] out = new float[rows.size() * cols];
        for (int r = 0; r < rows.size(); r++) {
            JsonArray row = rows.get(r).getAsJsonArray();
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = row.get(c).getAsFloat();
            }
        }
        return out;
    }

    /** max |a − b| ({@link Diffs#maxAbs(float[], float[])}); NaN when a difference is NaN. */
    public static float maxAbsDiff(float[] a, float[] b) {
        return (float) Diffs.maxAbs(a, b);
    }
}
