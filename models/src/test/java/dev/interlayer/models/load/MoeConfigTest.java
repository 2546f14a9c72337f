package dev.interlayer.models.load;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixture-of-experts config keys of HF folders: Qwen2-MoE's {@code norm_topk_prob} changes the routing
 * weights (checked against the PyTorch fixture made with the flag on, tolerance 1e-4 as in ArchGoldenTest);
 * layouts this engine cannot run (dense layers inside a Qwen2-MoE model, experts on a dense model_type) are
 * rejected with a message naming the key.
 */
class MoeConfigTest {
    @TempDir
    Path dir;

    private Path rewritten(String name, Consumer<JsonObject> edit) throws Exception {
        return Fixture.editedHf(dir, name, edit);
    }

    @Test
    void qwen2MoeNormTopKProbRenormalisesRouting() throws Exception {
        JsonObject g = Fixture.golden("qwen2moe");
        int[] tokens = Fixture.ints(g, "tokens");
        try (LoadedModel m = ModelLoader.open(rewritten("qwen2moe", c -> c.addProperty("norm_topk_prob", true)))) {
            float[] logits = m.requireLm().newSession(tokens.length).appendAll(tokens, 0, tokens.length);
            float err = Fixture.maxAbsDiff(logits, Fixture.matrix(g, "norm_topk_logits"));
            float moved = Fixture.maxAbsDiff(logits, Fixture.matrix(g, "logits"));
            System.out.printf("qwen2moe norm_topk_prob=true: vs pytorch %.3g, vs raw-probability logits %.3g%n", err,
                    moved);
            assertTrue(err <= 1e-4f, "norm_topk_prob logits differ by " + err);
            assertTrue(moved > 1e-2f, "norm_topk_prob had no effect (" + moved + ")");
        }
    }

    @Test
    void qwen2MoeDenseLayersNeedDenseWeights() throws Exception {
        // decoder_sparse_step 2 makes layer 0 dense (HF: sparse iff (i + 1) % step == 0); the all-sparse checkpoint
        // has no dense MLP there, so loading names the missing tensor (mixed layers: llama/Qwen2MoeMixedLayersTest)
        Path p = rewritten("qwen2moe", c -> c.addProperty("decoder_sparse_step", 2));
        var e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p).close());
        assertTrue(e.getMessage().contains("model.layers.0.mlp.gate_proj.weight"), e.getMessage());
    }

    @Test
    void qwen2MoeMlpOnlyLayersNeedDenseWeights() throws Exception {
        Path p = rewritten("qwen2moe", c -> {
            JsonArray a = new JsonArray();
            a.add(1);
            c.add("mlp_only_layers", a);
        });
        var e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p).close());
        assertTrue(e.getMessage().contains("model.layers.1.mlp.gate_proj.weight"), e.getMessage());
    }

    @Test
    void expertsOnDenseModelTypeAreRejected() throws Exception {
        Path p = rewritten("mixtral", c -> {
            c.addProperty("model_type", "mistral");
            c.remove("architectures");
        });
        var e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p).close());
        assertTrue(e.getMessage().contains("num_local_experts"), e.getMessage());
    }

    @Test
    void missingExpertTensorIsNamed() throws Exception {
        Path p = rewritten("mixtral", c -> c.addProperty("num_local_experts", 5));   // file holds 4 experts
        var e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p).close());
        assertTrue(e.getMessage().contains("block_sparse_moe"), e.getMessage());
    }
}
