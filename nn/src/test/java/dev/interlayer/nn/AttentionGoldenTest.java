package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.Tensor;

/**
 * Every attention variant against golden/attention.json (PyTorch float64 from the equations): full
 * prefill, token-by-token decode with the KV cache, and a 3-token prefill followed by decode.
 * Tolerance 1e-4 absolute: F32 activations vs a float64 reference on O(1) values (observed ~1e-6).
 */
class AttentionGoldenTest {
    @GoldenCases("attention.json")
    void matchesReference(String name, JsonObject c) {
        Golden.Builder b = new Golden.Builder(c.getAsJsonObject("weights"));
        Attention a = b.attention(c.getAsJsonObject("attention"), c.getAsJsonObject("qk_norm_type"), "");
        Tensor x = Golden.tensor(c.getAsJsonObject("x"));
        int t = x.dim(0);
        boolean[] valid = Golden.booleans(c, "key_valid");
        double atol = c.get("atol").getAsDouble();
        double[] expected = Golden.doubles(c.getAsJsonObject("output"));
        boolean bidirectional = !a.config().causal();
        for (int[] schedule : Runs.schedules(t)) {
            if (bidirectional && schedule.length > 1) {
                continue; // an encoder sees the whole sequence; chunked decode is not defined for it
            }
            double[] want = expected;
            if (c.has("output_decode") && schedule.length > 1) {
                if (schedule.length != t) {
                    continue; // dynamic NTK: only the token-by-token decode reference exists
                }
                want = Golden.doubles(c.getAsJsonObject("output_decode"));
            }
            double err = Runs.maxAbs(Runs.attention(a, x, schedule, valid), want);
            System.out.printf("attention %-24s %-16s max abs err %.3e%n", name, Runs.name(schedule, t), err);
            assertTrue(err <= atol, name + " " + Runs.name(schedule, t) + ": max abs err " + err + " > " + atol);
            if (a.config().window() > 0 && !bidirectional && schedule.length > 1) {
                // again through a sliding-window ring of W + maxChunk rows (wraps during decode)
                int maxChunk = schedule[0];
                KvCache ring = KvCache.withSlidingRings(a.config().contextLength(), new int[] {a.config().kvDim()},
                        new int[] {a.config().window()}, maxChunk);
                double rerr = Runs.maxAbs(Runs.attention(a, x, schedule, valid, null, ring), want);
                System.out.printf("attention %-24s %-16s ring of %d rows max abs err %.3e%n", name,
                        Runs.name(schedule, t), ring.rows(0), rerr);
                assertTrue(ring.isRing(0) && rerr <= atol, name + " ring " + Runs.name(schedule, t) + ": " + rerr);
            }
        }
    }
}
