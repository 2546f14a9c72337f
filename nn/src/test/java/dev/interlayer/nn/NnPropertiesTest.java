package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.Tries;
import org.junit.jupiter.api.Test;

/**
 * Invariants of norm placement, attention, blocks and stacks, and float64 reference values, on seeded random
 * weights. Each failure message names the seed and try. Tolerances: 1e-5 where both sides run the same
 * F32 arithmetic in a different order; 1e-4 where a norm's ε or a rescaling enters.
 */
class NnPropertiesTest {
    static final int TRIES = 12;

    // A random attention config covering heads/kv, pairing, scaling, window, QK-norm, softcap, ALiBi.
    static AttentionConfig randomAttention(RandomLayers r, boolean causal) {
        int[][] shapes = {{4, 4}, {4, 2}, {4, 1}, {6, 3}, {2, 2}};
        int[] hk = shapes[r.nextInt(shapes.length)];
        int hd = 4 * (1 + r.nextInt(2)); // rotary width stays even with partial 0.5
        AttentionConfig.Builder b = AttentionConfig.builder(12, hk[0], 24).kvHeads(hk[1]).headDim(hd).causal(causal);
        switch (r.nextInt(3)) {
            case 0 -> b.rope(new RopeConfig(10000, r.nextInt(2) == 0 ? Rope.Pairing.HALF_SPLIT
                    : Rope.Pairing.INTERLEAVED, r.nextInt(2) == 0 ? 0.5 : 1.0,
                    r.nextInt(2) == 0 ? new RopeScaling.None() : new RopeScaling.Linear(2)));
            case 1 -> b.alibi(8f);
            default -> {
            }
        }
        if (r.nextInt(3) == 0) {
            b.window(1 + r.nextInt(5));
        }
        if (r.nextInt(3) == 0) {
            b.qkNorm(r.nextInt(2) == 0 ? QkNorm.HEAD : QkNorm.FLAT);
        }
        if (r.nextInt(3) == 0) {
            b.softcap(1f + r.nextInt(5));
        }
        return b.build();
    }

    @Test
    void decodeWithCacheEqualsFullRecompute() {
        double worst = 0;
        for (int i = 0; i < TRIES; i++) {
            long seed = 0xC0FFEEL + i;
            RandomLayers r = new RandomLayers(seed);
            NormPlacement p = NormPlacement.values()[r.nextInt(NormPlacement.values().length)];
            TransformerBlock b = r.block(BlockConfig.of(randomAttention(r, true), p), r.swiGlu(12, 16));
            Tensor x = r.input(9, 12);
            float[] full = Runs.block(b, x, null);
            float[] dec = Runs.block(b, x, new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1});
            float[] mixed = Runs.block(b, x, new int[] {4, 1, 3, 1});
            double err = Math.max(Runs.maxAbs(full, dec), Runs.maxAbs(full, mixed));
            worst = Math.max(worst, err);
            assertTrue(err <= 1e-5, "seed " + seed + " try " + i + " " + b.config() + ": " + err);
        }
        System.out.printf("decode vs recompute: worst max abs diff %.3e over %d random blocks%n", worst, TRIES);
    }

    @Test
    void causalOutputIgnoresLaterTokens() {
        Tries.seeds(TRIES, 0xCA05A1L, seed -> {
            RandomLayers r = new RandomLayers(seed);
            TransformerBlock b = r.block(BlockConfig.of(randomAttention(r, true), NormPlacement.PRE), r.swiGlu(12, 16));
            Tensor x = r.input(8, 12);
            int t = 1 + r.nextInt(6);
            Tensor x2 = x.copy();
            for (int row = t + 1; row < 8; row++) {
                for (int j = 0; j < 12; j++) {
                    x2.setFloat(x2.getFloat(row, j) + 5f, row, j);
                }
            }
            float[] a = Runs.block(b, x, null), c = Runs.block(b, x2, null);
            for (int k = 0; k < (t + 1) * 12; k++) {
                assertEquals(a[k], c[k], Runs.ROUNDING_TOL, "seed " + seed + ": output at row " + k / 12 + " <= " + t
                        + " changed when later tokens changed");
            }
            boolean changed = false;
            for (int k = (t + 1) * 12; k < a.length; k++) {
                changed |= a[k] != c[k];
            }
            assertTrue(changed, "seed " + seed + ": later rows should change (control)");
        });
    }

    @Test
    void gqaEqualsMhaWithRepeatedKvHeads() {
        Tries.seeds(TRIES, 0x6A0L, seed -> {
            RandomLayers r = new RandomLayers(seed);
            AttentionConfig g = randomAttention(r, true);
            if (g.qkNorm() == QkNorm.FLAT) {
                g = g.toBuilder().qkNorm(QkNorm.NONE).build(); // a flat k-norm spans Hkv·dh, so it does not repeat
            }
            Attention a = r.attention(g);
            AttentionConfig mc = g.toBuilder().kvHeads(g.heads()).build();
            Attention m = new Attention(mc, a.wq(), repeatHeads(a.wk(), g), repeatHeads(a.wv(), g), a.wo(),
                    a.qNorm(), a.kNorm());
            Tensor x = r.input(7, 12);
            double err = Runs.maxAbs(Runs.attention(a, x, null, null), Runs.attention(m, x, null, null));
            assertTrue(err <= 1e-5, "seed " + seed + " " + g + ": " + err);
        });
    }

    // rows of head g copied to heads g·G … g·G+G−1
    private static Linear repeatHeads(Linear w, AttentionConfig c) {
        int dh = c.headDim(), d = c.hidden(), gs = c.groupSize();
        Tensor out = Tensor.zeros(c.qDim(), d);
        for (int h = 0; h < c.heads(); h++) {
            out.slice(0, h * dh, (h + 1) * dh).copyFrom(w.weight().slice(0, (h / gs) * dh, (h / gs + 1) * dh));
        }
        return new Linear(out);
    }

    @Test
    void periWithIdentityOutputNormsEqualsPre() {
        Tries.seeds(TRIES, 0xBE41L, seed -> {
            RandomLayers r = new RandomLayers(seed);
            AttentionConfig ac = randomAttention(r, true);
            TransformerBlock pre = r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(12, 16));
            TransformerBlock peri = new TransformerBlock(BlockConfig.of(ac, NormPlacement.PERI), pre.attnIn(),
                    pre.attention(), new IdentityNorm(12), pre.ffnIn(), pre.ffn(), new IdentityNorm(12));
            Tensor x = r.input(6, 12);
            double err = Runs.maxAbs(Runs.block(pre, x, null), Runs.block(peri, x, null));
            assertTrue(err <= Runs.ROUNDING_TOL, "seed " + seed + ": " + err);
        });
    }

    @Test
    void outputNormsMakeBlockInvariantToLastProjectionScale() {
        float c = 3.7f;
        for (NormPlacement p : new NormPlacement[] {NormPlacement.PERI, NormPlacement.OUTPUT, NormPlacement.PRE}) {
            double worst = 0, control = Double.MAX_VALUE;
            for (int i = 0; i < TRIES / 2; i++) {
                long seed = 0x5CA1EL + i;
                RandomLayers r = new RandomLayers(seed);
                TransformerBlock b = r.block(BlockConfig.of(randomAttention(r, true), p), r.swiGlu(12, 16));
                Attention a = b.attention();
                GatedMlp f = (GatedMlp) b.ffn();
                TransformerBlock scaled = new TransformerBlock(b.config(), b.attnIn(), new Attention(a.config(),
                        a.wq(), a.wk(), a.wv(), scaled(a.wo(), c), a.qNorm(), a.kNorm()), b.attnOut(), b.ffnIn(),
                        new GatedMlp(f.gate(), f.up(), scaled(f.down(), c), f.activation()), b.ffnOut());
                Tensor x = r.input(6, 12);
                double diff = Runs.maxAbs(Runs.block(b, x, null), Runs.block(scaled, x, null));
                worst = Math.max(worst, diff);
                control = Math.min(control, diff);
            }
            System.out.printf("scale-invariance %s: max diff %.3e (min %.3e)%n", p, worst, control);
            if (p == NormPlacement.PRE) {
                assertTrue(control > 1e-2, "PRE must change when o_proj/down_proj are scaled (negative control)");
            } else {
                assertTrue(worst <= 1e-4, p + ": output changed by " + worst + " (RMSNorm ε = 1e-6 bounds this)");
            }
        }
    }

    private static Linear scaled(Linear l, float c) {
        Tensor w = l.weight().copy();
        Ops.scale(w, c, w);
        return new Linear(w);
    }

    @Test
    void ropeScoresDependOnlyOnPositionDifference() {
        RandomLayers r = new RandomLayers(0x40FEL);
        RopeScaling[] scalings = {new RopeScaling.None(), new RopeScaling.Linear(4),
            new RopeScaling.Llama3(8, 1, 4, 64)};
        double worst = 0;
        for (RopeScaling s : scalings) {
            for (Rope.Pairing pairing : Rope.Pairing.values()) {
                for (double partial : new double[] {1.0, 0.5}) {
                    Rope rope = new RopeConfig(10000, pairing, partial, s).table(8, 0);
                    for (int i = 0; i < TRIES; i++) {
                        Tensor q = r.input(1, 8), k = r.input(1, 8);
                        int m = r.nextInt(50), n = r.nextInt(50), c = r.nextInt(200);
                        double s1 = score(q, k, rope, m, n), s2 = score(q, k, rope, m + c, n + c);
                        worst = Math.max(worst, Math.abs(s1 - s2));
                        // angles up to ~250 rad in float32: |Δ| ≲ 250·ulp(1)·|q||k| ≈ 1e-4
                        assertEquals(s1, s2, 2e-4, s + " " + pairing + " partial " + partial + " m=" + m + " n=" + n
                                + " c=" + c);
                    }
                }
            }
        }
        System.out.printf("RoPE relative-position property: worst |Δscore| %.3e%n", worst);
    }

    private static double score(Tensor q, Tensor k, Rope rope, int m, int n) {
        Tensor qr = Tensor.zeros(1, 1, 8), kr = Tensor.zeros(1, 1, 8);
        Ops.rope(q.reshape(1, 1, 8), rope, new int[] {m}, qr);
        Ops.rope(k.reshape(1, 1, 8), rope, new int[] {n}, kr);
        double acc = 0;
        for (int i = 0; i < 8; i++) {
            acc += (double) qr.getFloat(0, 0, i) * kr.getFloat(0, 0, i);
        }
        return acc;
    }

    @Test
    void slidingWindowAtLeastSequenceEqualsCausal() {
        RandomLayers r = new RandomLayers(0x5EEL);
        AttentionConfig c = AttentionConfig.builder(12, 4, 24).kvHeads(2).headDim(4).rope(RopeConfig.of(10000)).build();
        Attention a = r.attention(c);
        Attention w = new Attention(c.toBuilder().window(8).build(), a.wq(), a.wk(), a.wv(), a.wo());
        Tensor x = r.input(8, 12);
        double err = Runs.maxAbs(Runs.attention(a, x, null, null), Runs.attention(w, x, null, null));
        assertTrue(err <= Runs.ROUNDING_TOL, "window >= length vs causal: " + err);
    }

    @Test
    void rollbackThenDecodeEqualsFreshSession() {
        RandomLayers r = new RandomLayers(0x70BL);
        AttentionConfig c = AttentionConfig.builder(12, 4, 24).kvHeads(2).headDim(4).rope(RopeConfig.of(10000)).build();
        TransformerBlock b = r.block(BlockConfig.of(c, NormPlacement.PRE), r.swiGlu(12, 16));
        DecoderStack stack = new DecoderStack(new Embedding(r.gaussian(1, 0, 20, 12)), null, null,
                java.util.List.of(b), r.rms(12));
        StackSession s = stack.newSession(24, 8, false);
        stack.forward(new int[] {1, 2, 3, 4, 5}, s);
        stack.decode(6, s);
        s.cache().truncate(5);
        float[] afterRollback = stack.decode(9, s).toFloatArray();
        StackSession fresh = stack.newSession(24, 8, false);
        stack.forward(new int[] {1, 2, 3, 4, 5}, fresh);
        float[] direct = stack.decode(9, fresh).toFloatArray();
        double err = Runs.maxAbs(afterRollback, direct);
        assertTrue(err <= Runs.ROUNDING_TOL, "rollback vs fresh session: " + err);
        assertEquals(6, s.position());
    }

    @Test
    void deepNormEqualsPostLnWithLastProjectionsDividedByAlpha() {
        // LN(α·x + F(x)) = LN(x + F(x)/α) (LayerNorm is scale invariant), up to LayerNorm ε
        RandomLayers r = new RandomLayers(0xDEE9L);
        AttentionConfig c = AttentionConfig.builder(12, 4, 24).build();
        float alpha = BlockConfig.deepNormAlpha(24);
        LayerNorm n1 = new LayerNorm(r.gaussian(0.2, 1, 12), r.gaussian(0.2, 0, 12), 1e-12f);
        LayerNorm n2 = new LayerNorm(r.gaussian(0.2, 1, 12), r.gaussian(0.2, 0, 12), 1e-12f);
        Attention a = r.attention(c);
        GatedMlp f = r.swiGlu(12, 16);
        TransformerBlock deep = new TransformerBlock(new BlockConfig(c, NormPlacement.POST, false, alpha, 1f), null, a,
                n1, null, f, n2);
        TransformerBlock post = new TransformerBlock(BlockConfig.of(c, NormPlacement.POST), null,
                new Attention(c, a.wq(), a.wk(), a.wv(), scaled(a.wo(), 1 / alpha)), n1, null,
                new GatedMlp(f.gate(), f.up(), scaled(f.down(), 1 / alpha), f.activation()), n2);
        Tensor x = r.input(6, 12);
        double err = Runs.maxAbs(Runs.block(deep, x, null), Runs.block(post, x, null));
        assertTrue(err <= 1e-4, "DeepNorm identity: " + err);
    }

    // ---- reference values (computed in float64 from the equations in the classes' Javadoc) ----

    @Test
    void referenceVectors() {
        float[] w = new RopeConfig(500000, Rope.Pairing.HALF_SPLIT, 1.0, new RopeScaling.Llama3(8, 1, 4, 8192))
                .invFreq(128, 1);
        assertEquals(1.0, w[0], 1e-7);
        assertEquals(0.016560440080994446, w[20], 1e-7 * 0.0166);
        assertEquals(0.002166570763503359, w[29], 1e-7 * 0.0022);
        assertEquals(0.00031269375038406517, w[33], 1e-7 * 0.0004);
        assertEquals(3.428102195952591e-05, w[40], 1e-7 * 3.5e-5);
        assertEquals(3.068925988914511e-07, w[63], 1e-7 * 3.1e-7);
        float[] s8 = Alibi.slopes(8, 8);
        for (int h = 0; h < 8; h++) {
            assertEquals(Math.pow(2, -(h + 1)), s8[h], 0.0);
        }
        float[] s12 = Alibi.slopes(12, 8);
        double[] tail = {0.7071067811865476, 0.35355339059327384, 0.17677669529663695, 0.08838834764831849};
        for (int i = 0; i < 4; i++) {
            assertEquals(tail[i], s12[8 + i], 1e-7);
        }
        assertEquals(2.6321480259049848, BlockConfig.deepNormAlpha(24), 1e-6);
        // Gemma RMSNorm, x = (1,2,3,4), w = (0, 0.5, −1, 1), ε = 1e-6
        Tensor y = new RmsNorm(Tensor.wrap(new float[] {0, 0.5f, -1, 1}), 1e-6f, true)
                .apply(Tensor.wrap(new float[] {1, 2, 3, 4}), Tensor.zeros(4));
        double[] want = {0.36514837, 1.09544516, 0.0, 2.92118692};
        for (int i = 0; i < 4; i++) {
            assertEquals(want[i], y.getFloat(i), 1e-6);
        }
        assertEquals(55.5f, Embedding.sqrtDimScale(3072, dev.interlayer.tensor.DType.BF16), 0f);
    }
}
