package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;

/**
 * Attention with caller-supplied positions against golden/positions.json (PyTorch float64, written from the
 * equations in reference/nn/golden_nn.py): gapped and offset positions for RoPE (default, llama3 scaling,
 * interleaved partial), ALiBi, a sliding window masked by position, and left padding (repeated, decreasing
 * positions). Each case is run as one prefill, token by token, and 3-token prefill + decode; the reference
 * has one output per schedule (they differ when positions go back). Tolerance 1e-4 absolute: F32
 * activations vs a float64 reference on O(1) values.
 */
class PositionsGoldenTest {
    @GoldenCases("positions.json")
    void matchesReference(String name, JsonObject c) {
        Attention a = new Golden.Builder(c.getAsJsonObject("weights")).attention(c.getAsJsonObject("attention"),
                c.getAsJsonObject("qk_norm_type"), "");
        Tensor x = Golden.tensor(c.getAsJsonObject("x"));
        int t = x.dim(0);
        int[] positions = JsonArrays.ints(c.getAsJsonArray("positions"));
        boolean[] valid = Golden.booleans(c, "key_valid");
        double atol = c.get("atol").getAsDouble();
        JsonObject outputs = c.getAsJsonObject("outputs");
        for (int[] schedule : Runs.schedules(t)) {
            String sched = Runs.name(schedule, t);
            double err = Runs.maxAbs(Runs.attention(a, x, schedule, valid, positions),
                    Golden.doubles(outputs.getAsJsonObject(sched)));
            System.out.printf("positions %-32s %-16s max abs err %.3e%n", name, sched, err);
            assertTrue(err <= atol, name + " " + sched + ": max abs err " + err + " > " + atol);
            if (a.config().window() > 0 && schedule.length > 1) {
                // again through a sliding-window ring of W + maxChunk rows (wraps during decode)
                KvCache ring = KvCache.withSlidingRings(a.config().contextLength(), new int[] {a.config().kvDim()},
                        new int[] {a.config().window()}, schedule[0]);
                double rerr = Runs.maxAbs(Runs.attention(a, x, schedule, valid, positions, ring),
                        Golden.doubles(outputs.getAsJsonObject(sched)));
                System.out.printf("positions %-32s %-16s ring of %d rows max abs err %.3e%n", name, sched,
                        ring.rows(0), rerr);
                assertTrue(ring.isRing(0) && rerr <= atol, name + " ring " + sched + ": " + rerr);
            }
        }
    }
}
