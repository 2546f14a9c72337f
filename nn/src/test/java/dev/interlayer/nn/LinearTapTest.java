package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The linear tap reports what the linears really read: checked against the residual stream captured
 * independently by the session's hidden-state taps. With x_ℓ = tap ℓ, a PRE block computes
 * u = N_attn(x_ℓ) (ATTN_QKV), x_mid = x_ℓ + W_o·ctx (ctx = ATTN_OUTPUT), v = N_ffn(x_mid) (FFN_IN) and
 * x_{ℓ+1} = x_mid + W_down·h (h = FFN_DOWN). Tolerance 1e-4 absolute: the same float32 kernels recomputed
 * in another order (activations are O(1), widths ≤ 64).
 */
class LinearTapTest {
    private static final int D = 32, HEADS = 4, FFN = 48, T = 7, VOCAB = 40;
    private static final float TOL = 1e-4f;

    private record Report(int layer, LinearSite site, int expert, float[] rows, int n) {
    }

    @Test
    void denseReportsEveryLinearInputConsistentWithTheResidualStream() {
        DecoderStack stack = stack(false);
        StackSession s = stack.newSession(32, 16, true);
        Map<String, Report> seen = new HashMap<>();
        s.linearTap((l, site, e, rows) -> seen.put(l + "." + site, new Report(l, site, e, rows.toFloatArray(),
                rows.dim(0))));
        int[] tokens = {1, 5, 9, 3, 22, 17, 8};
        Tensor tapped = stack.forward(tokens, s).copy();
        assertEquals(2 * 4, seen.size(), "4 sites x 2 layers: " + seen.keySet());
        for (int l = 0; l < 2; l++) {
            TransformerBlock b = stack.blocks().get(l);
            Tensor xl = s.tap(l).copy(), next = s.tap(l + 1);
            assertClose(norm(b.attnIn(), xl), seen.get(l + "." + LinearSite.ATTN_QKV));
            Report ctx = seen.get(l + "." + LinearSite.ATTN_OUTPUT);
            assertEquals(D, ctx.rows.length / T);
            Tensor xmid = Ops.add(xl, b.attention().wo().apply(Tensor.wrap(ctx.rows, dev.interlayer.tensor.Shape.of(T, D)), Tensor.zeros(T, D)),
                    Tensor.zeros(T, D));
            assertClose(norm(b.ffnIn(), xmid), seen.get(l + "." + LinearSite.FFN_IN));
            Report h = seen.get(l + "." + LinearSite.FFN_DOWN);
            GatedMlp mlp = (GatedMlp) b.ffn();
            Tensor rebuilt = Ops.add(xmid, mlp.down().apply(Tensor.wrap(h.rows, dev.interlayer.tensor.Shape.of(T, FFN)), Tensor.zeros(T, D)),
                    Tensor.zeros(T, D));
            assertClose(rebuilt.toFloatArray(), next.toFloatArray(), "block " + l + " output");
            assertEquals(-1, h.expert);
        }
        // the tap observes only: the same chunk without it gives the same output. Not bit for bit: a session
        // without hidden-state taps may take other kernel splits (the CI run of 2026-12-06 saw a difference
        // at float32 rounding level), so the stated TOL applies here too.
        StackSession plain = stack.newSession(32, 16, false);
        assertClose(stack.forward(tokens, plain).toFloatArray(), tapped.toFloatArray(), "untapped session");
    }

    @Test
    void moeExpertsReportOnlyTheirRoutedRows() {
        DecoderStack stack = stack(true);
        StackSession s = stack.newSession(32, 16, true);
        List<Report> seen = new ArrayList<>();
        s.linearTap((l, site, e, rows) -> seen.add(new Report(l, site, e, rows.toFloatArray(), rows.dim(0))));
        stack.forward(new int[]{4, 8, 15, 16, 23, 2, 7}, s);
        for (int l = 0; l < 2; l++) {
            TransformerBlock b = stack.blocks().get(l);
            Report ctx = null;
            int routed = 0;
            for (Report r : seen) {
                if (r.layer == l && r.site == LinearSite.ATTN_OUTPUT) {
                    ctx = r;
                }
            }
            Tensor xmid = Ops.add(s.tap(l), b.attention().wo().apply(Tensor.wrap(ctx.rows, dev.interlayer.tensor.Shape.of(T, D)), Tensor.zeros(T, D)),
                    Tensor.zeros(T, D));
            float[] v = norm(b.ffnIn(), xmid);
            for (Report r : seen) {
                if (r.layer == l && r.site == LinearSite.FFN_IN) {
                    assertTrue(r.expert >= 0 && r.expert < 4, "expert index " + r.expert);
                    routed += r.n;
                    for (int i = 0; i < r.n; i++) {
                        assertTrue(matchesSomeRow(r.rows, i, v), "layer " + l + " expert " + r.expert + " row " + i
                                + " is not the normed input of any token");
                    }
                }
            }
            assertEquals(T * 2, routed, "top-2 routing: every token reaches two experts");
        }
    }

    private static boolean matchesSomeRow(float[] rows, int i, float[] v) {
        for (int tok = 0; tok < T; tok++) {
            float m = 0;
            for (int c = 0; c < D; c++) {
                m = Math.max(m, Math.abs(rows[i * D + c] - v[tok * D + c]));
            }
            if (m <= TOL) {
                return true;
            }
        }
        return false;
    }

    private static float[] norm(Norm n, Tensor x) {
        return n.apply(x, Tensor.zeros(T, D)).toFloatArray();
    }

    private static void assertClose(float[] want, Report got) {
        assertEquals(want.length, got.n * D, got.site + " row count");
        assertClose(want, got.rows, got.site + " of layer " + got.layer);
    }

    private static void assertClose(float[] want, float[] got, String what) {
        float d = maxDiff(want, got);
        assertTrue(d <= TOL, what + ": max |diff| " + d + " > " + TOL);
    }

    private static float maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static DecoderStack stack(boolean moe) {
        RandomLayers r = new RandomLayers(0x7A9L);
        AttentionConfig ac = AttentionConfig.builder(D, HEADS, 32).kvHeads(2).rope(RopeConfig.of(10000)).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            FeedForward f = r.swiGlu(D, FFN);
            if (moe) {
                f = r.topTwoOfFourSwiGlu(D, FFN);
            }
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), f));
        }
        return new DecoderStack(new Embedding(r.gaussian(1.0, 0.0, VOCAB, D)), null, null, blocks, r.rms(D));
    }
}
