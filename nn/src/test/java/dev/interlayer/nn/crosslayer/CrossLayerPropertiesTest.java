package dev.interlayer.nn.crosslayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Spec invariants of the attention-level cross-layer mechanisms. */
class CrossLayerPropertiesTest {
    private static final ResearchFixture M = CrossLayerFixture.MODEL;

    /** No mechanism = the engine's stack (same attention; norms, adds and FFN through Sublayers, so 1e-5). */
    @Test
    void noMechanismIsThePlainModel() {
        float[] plain = M.stack.forward(M.tokens, M.stack.newSession(32, 8, false)).toFloatArray();
        float[] none = CrossLayerGoldenTest.run(new CrossLayerStack(M.stack, CrossLayerConfig.none()), M.tokens,
                new int[] {7});
        assertTrue(ResearchFixture.maxAbs(none, (plain)) <= 1e-5);
    }

    /**
     * λ = (0, 1) and KV-shift (prev, cur) = (0, 1) are vanilla attention: 1·v + 0·v0 is exact, so the runs agree up
     * to JIT-dependent reduction order (1e-6); each comparison uses the same chunk schedule.
     */
    @Test
    void neutralParametersAreThePlainModel() {
        float[] none = CrossLayerGoldenTest.run(new CrossLayerStack(M.stack, CrossLayerConfig.none()), M.tokens,
                new int[] {7});
        float[] noneChunked = CrossLayerGoldenTest.run(new CrossLayerStack(M.stack, CrossLayerConfig.none()),
                M.tokens, new int[] {3, 1, 1, 1, 1});
        float[] lambda = CrossLayerGoldenTest.run(new CrossLayerStack(M.stack, CrossLayerConfig.valueResidual(0f, 1f)),
                M.tokens, new int[] {7});
        assertEquals(0, ResearchFixture.maxAbs(lambda, (none)), 1e-6);
        Map<Integer, CrossLayerConfig.KvShift> id = new HashMap<>();
        for (int l = 0; l < M.layers; l++) {
            id.put(l, CrossLayerConfig.KvShift.identity(2));
        }
        float[] shift = CrossLayerGoldenTest.run(new CrossLayerStack(M.stack, CrossLayerConfig.kvShift(id)), M.tokens,
                new int[] {3, 1, 1, 1, 1});
        assertEquals(0, ResearchFixture.maxAbs(shift, noneChunked), 1e-6);
    }

    /** Rolling back restores the KV-shift state (the raw previous key is kept per position, not as one register). */
    @Test
    void kvShiftSurvivesRollback() {
        CrossLayerStack stack = new CrossLayerStack(M.stack, CrossLayerConfig.kvShift(CrossLayerFixture.kvShifts()));
        float[] straight = CrossLayerGoldenTest.run(stack, M.tokens, new int[] {7});
        CrossLayerSession s = stack.newSession(32, 8);
        stack.forward(Arrays.copyOf(M.tokens, 5), s);
        stack.forward(new int[] {0, 1}, s);                 // a rejected continuation
        s.truncate(4);
        float[] tail = stack.forward(Arrays.copyOfRange(M.tokens, 4, 7), s).toFloatArray();
        double[] want = new double[tail.length];
        for (int i = 0; i < tail.length; i++) {
            want[i] = straight[4 * M.hidden + i];
        }
        assertTrue(ResearchFixture.maxAbs(tail, want) <= 1e-5);
    }

    /**
     * Zero persistent keys and values change only the softmax normaliser: each slot scores 0, so the output is the
     * vanilla output times Z/(Z + N) with Z = Σ_j exp(τ·q·k_j) (spec invariant, checked per head and query). Run
     * through the engine's attention (no positions, Wo = identity so the output is the heads' concatenation);
     * Z is recomputed in double from the same weights (1e-6: float attention against a double ratio).
     */
    @Test
    void zeroPersistentMemoryOnlyRescales() {
        AttentionConfig c = AttentionConfig.builder(8, 2, 16).kvHeads(1).build();
        SplittableRandom r = new SplittableRandom(5);
        int t = 4, n = 3, dh = c.headDim(), d = c.hidden();
        Tensor wq = Tensor.wrap(rand(r, c.qDim() * d), Shape.of(c.qDim(), d));
        Tensor wk = Tensor.wrap(rand(r, c.kvDim() * d), Shape.of(c.kvDim(), d));
        Tensor wv = Tensor.wrap(rand(r, c.kvDim() * d), Shape.of(c.kvDim(), d));
        float[] eye = new float[d * c.qDim()];
        for (int i = 0; i < d; i++) {
            eye[i * d + i] = 1f;
        }
        Attention at = new Attention(c, new Linear(wq), new Linear(wk), new Linear(wv),
                new Linear(Tensor.wrap(eye, Shape.of(d, c.qDim()))));
        Tensor x = Tensor.wrap(rand(r, t * d), Shape.of(t, d));
        Attention.State withMemory = at.newState(new KvCache(16, c.kvDim()), 0, t);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> withMemory.setPersistentMemory(Tensor.zeros(2, n, dh), null), "keys without values");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> withMemory.setPersistentMemory(null, Tensor.zeros(2, n, dh)), "values without keys");
        withMemory.setPersistentMemory(Tensor.zeros(2, n, dh), Tensor.zeros(2, n, dh));
        float[] plain = attend(at, x, at.newState(new KvCache(16, c.kvDim()), 0, t));
        float[] mem = attend(at, x, withMemory);
        float[] q = Ops.matmulT(x, wq, Tensor.zeros(t, c.qDim())).toFloatArray();
        float[] k = Ops.matmulT(x, wk, Tensor.zeros(t, c.kvDim())).toFloatArray();
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < t; i++) {
                double z = 0;
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int e = 0; e < dh; e++) {
                        s += (double) q[i * c.qDim() + h * dh + e] * k[j * c.kvDim() + e];
                    }
                    z += Math.exp(s * c.effectiveScale());
                }
                double ratio = z / (z + n);
                for (int e = 0; e < dh; e++) {
                    int at2 = i * c.qDim() + h * dh + e;
                    assertEquals(plain[at2] * ratio, mem[at2], 1e-6, "head " + h + " query " + i);
                }
            }
        }
    }

    private static float[] attend(Attention at, Tensor x, Attention.State st) {
        Tensor out = Tensor.zeros(x.dim(0), x.dim(1));
        at.forward(x, out, st);
        return out.toFloatArray();
    }

    private static float[] rand(SplittableRandom r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return f;
    }

}
