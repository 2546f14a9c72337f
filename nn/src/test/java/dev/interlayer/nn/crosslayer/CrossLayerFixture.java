package dev.interlayer.nn.crosslayer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** Reads research/crosslayer.json (reference/research/crosslayer_reference.py); the model is research.json's. */
final class CrossLayerFixture {
    static final ResearchFixture MODEL = ResearchFixture.load();
    static final JsonObject DOC = read();

    private CrossLayerFixture() {
    }

    private static JsonObject read() {
        try (InputStream in = CrossLayerFixture.class.getResourceAsStream("/research/crosslayer.json")) {
            if (in == null) {
                throw new IllegalStateException("missing fixture research/crosslayer.json");
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonObject find(String name) {
        for (var e : DOC.getAsJsonArray("cases")) {
            if (e.getAsJsonObject().get("name").getAsString().equals(name)) {
                return e.getAsJsonObject();
            }
        }
        throw new IllegalArgumentException("no case " + name + " in crosslayer.json");
    }

    static Tensor w(String name) {
        return ResearchFixture.tensor(DOC.getAsJsonObject("weights").getAsJsonObject(name));
    }

    static float[][] matrix(JsonArray a) {
        float[][] out = new float[a.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonArray row = a.get(i).getAsJsonArray();
            out[i] = new float[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = row.get(j).getAsFloat();
            }
        }
        return out;
    }
}
