package dev.interlayer.models.load;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The newer HF spelling {@code rope_parameters} (one dict, or one per layer type) means the same as
 * {@code rope_theta} + {@code rope_scaling} (+ Gemma 3 {@code rope_local_base_freq}): the rewritten
 * configs must reproduce the PyTorch fixtures of the original ones (tolerance 1e-4 as in ArchGoldenTest).
 */
class HfConfigSpellingsTest {
    @TempDir
    Path dir;

    private Path rewritten(String name, Consumer<JsonObject> edit) throws Exception {
        return Fixture.editedHf(dir, name, edit);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gemma3", "llama3"})
    void ropeParametersMatchRopeThetaAndScaling(String name) throws Exception {
        Path p = rewritten(name, c -> {
            JsonObject scaling = c.getAsJsonObject("rope_scaling").deepCopy();
            scaling.add("rope_theta", c.get("rope_theta"));
            JsonObject rp = scaling;
            if (name.equals("gemma3")) {
                rp = new JsonObject();
                rp.add("full_attention", scaling);
                JsonObject local = new JsonObject();
                local.addProperty("rope_type", "default");
                local.add("rope_theta", c.get("rope_local_base_freq"));
                rp.add("sliding_attention", local);
                c.remove("rope_local_base_freq");
            }
            c.remove("rope_theta");
            c.remove("rope_scaling");
            c.add("rope_parameters", rp);
        });
        JsonObject g = Fixture.golden(name);
        int[] tokens = Fixture.ints(g, "tokens");
        try (LoadedModel m = ModelLoader.open(p)) {
            float[] logits = m.requireLm().newSession(tokens.length).appendAll(tokens, 0, tokens.length);
            float err = Fixture.maxAbsDiff(logits, Fixture.matrix(g, "logits"));
            assertTrue(err <= 1e-4f, name + " with rope_parameters differs by " + err);
        }
    }
}
