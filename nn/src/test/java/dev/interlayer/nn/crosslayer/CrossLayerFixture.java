package dev.interlayer.nn.crosslayer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.nn.Golden;
import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/** Reads research/crosslayer.json (reference/research/crosslayer_reference.py); the model is research.json's. */
final class CrossLayerFixture {
    static final ResearchFixture MODEL = ResearchFixture.load();
    static final JsonObject DOC = Golden.resource("research/crosslayer.json", "");

    private CrossLayerFixture() {
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

    /** The fixture's KV-shift layers 0, 2 and 3, with their (k, v) mixing weights kvshift.L.k / kvshift.L.v. */
    static Map<Integer, CrossLayerConfig.KvShift> kvShifts() {
        Map<Integer, CrossLayerConfig.KvShift> shifts = new HashMap<>();
        for (int l : new int[] {0, 2, 3}) {
            shifts.put(l, new CrossLayerConfig.KvShift(w("kvshift." + l + ".k"), w("kvshift." + l + ".v")));
        }
        return shifts;
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
