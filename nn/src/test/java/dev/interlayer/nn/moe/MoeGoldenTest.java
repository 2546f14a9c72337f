package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.nn.Golden;
import dev.interlayer.nn.GoldenCases;
import dev.interlayer.nn.Runs;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;

/**
 * MoE FFN (Mixtral renormalized, OLMoE un-normalized, Qwen2-MoE gated shared expert, DeepSeek
 * always-on shared expert) against golden/moe.json: output within 1e-4 (F32 vs float64), tokens per
 * expert exactly, mean router entropy within 1e-5. Also run token by token (decode) to check
 * routing is token-wise.
 */
class MoeGoldenTest {
    @GoldenCases("moe.json")
    void matchesReference(String name, JsonObject c) {
        MoeFeedForward moe = new Golden.Builder(c.getAsJsonObject("weights")).moe(c.getAsJsonObject("moe"), "", 16);
        Tensor x = Golden.tensor(c.getAsJsonObject("x"));
        int t = x.dim(0), d = x.dim(1);
        MoeFeedForward.State st = moe.newScratch(t);
        Tensor y = Tensor.zeros(t, d);
        moe.forward(x, y, st);
        double err = Runs.maxAbs(y.toFloatArray(), Golden.doubles(c.getAsJsonObject("output")));
        int[] want = JsonArrays.ints(c.getAsJsonArray("tokens_per_expert"));
        assertArrayEquals(want, st.stats().tokensPerExpert(), name + " tokens per expert");
        assertEquals(t, st.stats().tokens());
        assertEquals(c.get("mean_entropy").getAsDouble(), st.stats().meanEntropy(), 1e-5, name + " entropy");

        float[] decoded = new float[t * d];
        MoeFeedForward.State st1 = moe.newScratch(1);
        Tensor y1 = Tensor.zeros(1, d);
        for (int i = 0; i < t; i++) {
            moe.forward(x.slice(0, i, i + 1), y1, st1);
            System.arraycopy(y1.toFloatArray(), 0, decoded, i * d, d);
        }
        double derr = Runs.maxAbs(decoded, Golden.doubles(c.getAsJsonObject("output")));
        System.out.printf("moe %-24s max abs err %.3e (token-by-token %.3e) %s%n", name, err, derr, st.stats());
        assertTrue(err <= 1e-4 && derr <= 1e-4, name + ": " + err + " / " + derr);
    }
}
