package dev.interlayer.models.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.Fixture;
import dev.interlayer.tensor.testing.JsonArrays;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Logits of every position against reference/llama/llama_reference.py, an independent float64 numpy
 * implementation that parses the same GGUF itself (it reproduces llama.cpp's stories260K top-5 logits).
 */
class LlamaReferenceTest {

    // Tolerance 1e-4 absolute: Java accumulates in float32, numpy in float64; logits are O(10), so float
    // rounding of a few hundred-term dot products stays near 1e-5.
    @ParameterizedTest
    @CsvSource({
            "synthetic/synth-llama-256-f32.gguf, synth-llama-256.json, 1e-4",
            "llama-2-tiny-random/llama-2-tiny-random.gguf, llama-2-tiny-random.json, 1e-4",
            "synthetic/synth-mixtral-moe-f32.gguf, synth-mixtral-moe.json, 1e-4",
            "synthetic/synth-qwen2moe-f32.gguf, synth-qwen2moe.json, 1e-4"})
    void logitsMatchNumpyReference(String model, String fixture, double tol) throws IOException {
        JsonObject ref = Fixture.json("/golden/llama/" + fixture);
        int[] tokens = JsonArrays.ints(ref.getAsJsonArray("tokens"));
        JsonArray rows = ref.getAsJsonArray("logits");
        int[] ids = ref.has("ids") ? JsonArrays.ints(ref.getAsJsonArray("ids")) : null;
        try (GgufFile f = Gguf.open(SharedModels.require(model))) {
            LlamaModel m = LlamaModel.load(f);
            int vocab = m.vocabSize();
            // batched prefill (chunk 3, so chunks straddle) returning every position's logits
            float[] all = m.newSession(tokens.length, 3).appendAll(tokens, 0, tokens.length);
            // and token-by-token decode through the KV cache
            CausalLM.Session s = m.newSession(tokens.length);
            double worst = 0;
            for (int t = 0; t < tokens.length; t++) {
                float[] step = s.append(tokens, t, 1);
                JsonArray row = rows.get(t).getAsJsonArray();
                for (int j = 0; j < row.size(); j++) {
                    int id = ids == null ? j : ids[j];
                    double want = row.get(j).getAsDouble();
                    worst = Math.max(worst, Math.abs(all[t * vocab + id] - want));
                    worst = Math.max(worst, Math.abs(step[id] - want));
                }
            }
            System.out.printf("%s: max |logit - numpy| = %.3g over %d positions%n", model, worst, tokens.length);
            assertTrue(worst <= tol, model + ": max abs error " + worst + " > " + tol);
            assertEquals(tokens.length, s.position());
        }
    }
}
