package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.testing.JsonArrays;

/**
 * Decoder stacks with sliding-window layers against golden/ring.json (PyTorch float64 from the equations,
 * no cache at all): local, local, global layers with window 4 over 19 tokens, at implicit positions and at
 * gapped explicit positions, plus ALiBi local/global layers with learned absolute positions. Each case runs
 * as one prefill, token by token (the window-4 rings hold 5 rows, so 19 decode steps wrap them 3 times), and
 * in chunks of 3 and of 5 (rings of 7 and 9 rows). Tolerance 1e-4 absolute (F32 vs float64).
 */
class RingGoldenTest {
    @GoldenCases("ring.json")
    void matchesReference(String name, JsonObject c) {
        DecoderStack stack = new Golden.Builder(c.getAsJsonObject("weights")).decoder(c);
        int[] tokens = JsonArrays.ints(c.getAsJsonArray("tokens"));
        int[] positions = JsonArrays.ints(c.getAsJsonArray("positions"));
        boolean implicit = true;
        for (int i = 0; i < positions.length; i++) {
            implicit &= positions[i] == i;
        }
        int t = tokens.length, ctx = c.get("context").getAsInt();
        double atol = c.get("atol").getAsDouble();
        double[] expected = Golden.doubles(c.getAsJsonObject("output"));
        for (int chunk : new int[] {t, 1, 3, 5}) {
            StackSession s = stack.newSession(ctx, chunk, false);
            for (int l = 0; l < stack.layers(); l++) {
                int w = stack.blocks().get(l).config().attention().window();
                assertEquals(w > 0 ? w + chunk : ctx, s.cache().rows(l), "layer " + l + " rows");
            }
            float[] got = Runs.stack(stack, s, tokens, Runs.chunks(t, chunk), implicit ? null : positions);
            double err = Runs.maxAbs(got, expected);
            System.out.printf("ring %-40s chunks of %2d (local ring %2d rows) max abs err %.3e%n", name, chunk,
                    s.cache().rows(0), err);
            assertTrue(err <= atol, name + " chunks of " + chunk + ": max abs err " + err + " > " + atol);
        }
    }
}
