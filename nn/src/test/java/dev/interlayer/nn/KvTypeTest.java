package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * F16 and Q8_0 KV caches against the F32 cache, on the attention layers of small random stacks of each family
 * ({@link BatchFamilies} with head dim 32): decode steps, prefill chunks, a sliding-window ring that wraps, and
 * rollbacks ({@link KvCache#truncate}) followed by more decoding.
 *
 * <p>Tolerance (derived per output, from the data): the F32 cache holds the exact keys K and values V; the other
 * type stores K + ΔK, V + ΔV with |ΔX_ji| ≤ ε(X_ji): F16 rounds to nearest, ε = 2⁻¹¹·|x| + 2⁻²⁵ (half an ulp;
 * the second term covers subnormals); Q8_0 with block maximum a rounds x/d to an int8 (≤ d/2 = a/254) and stores
 * d = a/127 in f16 (relative 2⁻¹¹, ≤ 127·d·2⁻¹¹ = a·2⁻¹¹ on the value), ε = a/254 + a·2⁻¹¹. A score
 * s_j = τ·q·K_j moves by at most δ = τ·‖q_h‖₁·max ε(K) (soft-capping and ALiBi do not enlarge it), so each
 * softmax weight moves by a factor within e^{±2δ}, |Δp_j| ≤ p_j·(e^{2δ} − 1), and the head output
 * o_i = Σ_j p_j·V_ji moves by at most (e^{2δ} − 1)·max_j |V_ji| + max_j ε(V_ji). The layer output y = Wo·o
 * then moves by at most Σ_i |Wo_ri|·|Δo_i|. Both paths also round in F32 (different tiling of the same sums):
 * a slack of 1e-5·Σ_i |Wo_ri|·max_j |V_ji| + 1e-6 covers that. Maxima run over every row the cache holds, a
 * superset of the keys a query sees, so the bound only grows.
 */
class KvTypeTest {
    private static final double F16_REL = Math.scalb(1.0, -11), F16_ABS = Math.scalb(1.0, -25);

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"llama,F16", "llama,Q8_0", "qwen2-window,F16", "qwen2-window,Q8_0", "gemma2,F16", "gemma2,Q8_0",
            "olmo2,F16", "olmo2,Q8_0", "gpt2,F16", "gpt2,Q8_0", "moe,Q8_0"})
    void attentionLayersStayWithinTheDerivedBound(String family, KvType type) {
        DecoderStack stack = BatchFamilies.build(family, 0x4B7L ^ family.hashCode(), BatchFamilies.BLOCK_HEAD_DIM)
                .stack();
        for (int l = 0; l < stack.layers(); l++) {
            Attention a = stack.blocks().get(l).attention();
            double worst = run(a, type, new SplittableRandom(31L * l + family.hashCode()));
            System.out.printf("kv %s %s layer %d: worst error / bound %.3g, bound / mean |y| %.3g%n", type, family,
                    l, worst, RATIO[0]);
            RATIO[0] = 0;
        }
    }

    /**
     * Drives two caches (F32 and {@code type}, rings for a windowed layer) through prefill chunks, decode steps
     * and rollbacks with the same inputs; asserts every output within the bound and returns the largest
     * error-to-bound ratio.
     */
    private static double run(Attention a, KvType type, SplittableRandom rng) {
        AttentionConfig c = a.config();
        int ctx = 40, chunk = 5, d = c.hidden();
        int[] kv = {c.kvDim()}, win = {c.window()};
        KvCache ref = KvCache.withSlidingRings(ctx, kv, win, chunk, KvType.F32);
        KvCache got = KvCache.withSlidingRings(ctx, kv, win, chunk, type);
        assertEquals(ref.rows(0), got.rows(0));
        Attention.State rs = a.newState(ref, 0, chunk), gs = a.newState(got, 0, chunk);
        double worst = 0;
        // prefill 2 chunks, 10 decode steps, roll back 4, 6 more decode steps, a chunk, roll back 3, decode to 30
        int[] plan = {5, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -4, 1, 1, 1, 1, 1, 1, 5, -3, 1, 1, 1, 1, 1, 1, 1, 1};
        for (int step : plan) {
            if (step < 0) {
                ref.truncate(ref.length() + step);
                got.truncate(got.length() + step);
                continue;
            }
            float[] xs = new float[step * d];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rng.nextGaussian();
            }
            Tensor x = Tensor.wrap(xs, Shape.of(step, d));
            Tensor yr = Tensor.zeros(step, d), yg = Tensor.zeros(step, d);
            a.forward(x, yr, rs);
            a.forward(x, yg, gs);
            worst = Math.max(worst, check(a, type, ref, rs, yr.toFloatArray(), yg.toFloatArray(), step));
            storedEqualsRounded(type, ref, got, ref.length(), step);
            matchesReference(a, KvType.F32, ref, rs, yr.toFloatArray(), step);   // validates the reference
            matchesReference(a, type, ref, rs, yg.toFloatArray(), step);
            ref.advance(step);
            got.advance(step);
        }
        assertTrue(ref.isRing(0) == (c.window() > 0), "a windowed layer keeps a ring");
        return worst;
    }

    // Asserts |yg − yr| ≤ bound for each output of the last call (its q rows are still in the state); returns the
    // largest error / bound.
    private static double check(Attention a, KvType type, KvCache ref, Attention.State rs, float[] yr, float[] yg,
                                int t) {
        AttentionConfig c = a.config();
        int dh = c.headDim(), kvDim = c.kvDim(), rows = ref.rows(0), d = c.hidden(), qDim = c.qDim();
        int kvHeads = c.kvHeads();
        float[] k = ref.keys(0), v = ref.values(0), q = rs.q.data(), wo = a.wo().weight().toFloatArray();
        double[] epsK = new double[kvHeads];
        double[][] vMax = new double[kvHeads][dh], epsV = new double[kvHeads][dh];
        for (int g = 0; g < kvHeads; g++) {
            for (int j = 0; j < rows; j++) {
                for (int i = 0; i < dh; i++) {
                    int at = j * kvDim + g * dh + i, block = j * kvDim + g * dh + i / 32 * 32;
                    epsK[g] = Math.max(epsK[g], eps(type, k, at, block));
                    vMax[g][i] = Math.max(vMax[g][i], Math.abs(v[at]));
                    epsV[g][i] = Math.max(epsV[g][i], eps(type, v, at, block));
                }
            }
        }
        double worst = 0, boundSum = 0, outSum = 0;
        double[] bound = new double[d];
        for (int tok = 0; tok < t; tok++) {
            java.util.Arrays.fill(bound, 1e-6);
            for (int h = 0; h < c.heads(); h++) {
                int g = h / c.groupSize();
                double q1 = 0;
                for (int i = 0; i < dh; i++) {
                    q1 += Math.abs(q[tok * qDim + h * dh + i]);
                }
                double growth = Math.expm1(2 * c.effectiveScale() * q1 * epsK[g]);
                for (int r = 0; r < d; r++) {
                    for (int i = 0; i < dh; i++) {
                        double w = Math.abs(wo[r * qDim + h * dh + i]);
                        bound[r] += w * (growth * vMax[g][i] + epsV[g][i] + 1e-5 * vMax[g][i]);
                    }
                }
            }
            for (int r = 0; r < d; r++) {
                double err = Math.abs((double) yg[tok * d + r] - yr[tok * d + r]);
                assertTrue(err <= bound[r], type + " output " + r + " of token " + tok + ": |" + yg[tok * d + r]
                        + " - " + yr[tok * d + r] + "| = " + err + " > bound " + bound[r]);
                worst = Math.max(worst, err / bound[r]);
                boundSum += bound[r];
                outSum += Math.abs(yr[tok * d + r]);
            }
        }
        // worst-case bound: loose (random weights give large ‖q‖₁); the exact checks below catch wrong rows
        RATIO[0] = Math.max(RATIO[0], boundSum / outSum);
        return worst;
    }

    static final double[] RATIO = new double[1];

    // Entries [from, from + t) of got read back equal the F32 entries of ref rounded by the oracle below, bit for bit
    // (the same rounding by design: RNE binary16, ggml's quantize_row_q8_0_ref).
    private static void storedEqualsRounded(KvType type, KvCache ref, KvCache got, int from, int t) {
        int kvDim = ref.kvDim(0), rows = ref.rows(0);
        float[] row = new float[kvDim];
        for (int slot = from; slot < from + t; slot++) {
            int r = slot % rows;
            for (int kind = 0; kind < 2; kind++) {
                float[] exact = kind == 0 ? ref.keys(0) : ref.values(0);
                if (kind == 0) {
                    got.readKey(0, slot, row, 0);
                } else {
                    got.readValue(0, slot, row, 0);
                }
                float[] want = rounded(type, exact, r * kvDim, kvDim);
                for (int i = 0; i < kvDim; i++) {
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(row[i]), type + " entry " + slot
                            + (kind == 0 ? " key " : " value ") + i + ": " + row[i] + " instead of " + want[i]);
                }
            }
        }
    }

    /**
     * Independent reference in double: attention of the last call's queries (post-RoPE q rows of the F32 state)
     * over the F32 cache's keys and values rounded as {@code type} stores them ({@link #rounded}), at implicit
     * positions (entry j at position j, causal, window w, soft-cap), then y = Wo·o + bo. The cached path must
     * agree up to F32 rounding: scores and sums of a few dozen O(1) terms, 1e-4 relative to Σ_i |Wo_ri|·max|V_i|
     * (~1000 ulp) while a wrong row, head or ring slot moves y by O(|y|).
     */
    private static void matchesReference(Attention a, KvType type, KvCache ref, Attention.State rs, float[] y,
                                         int t) {
        AttentionConfig c = a.config();
        int dh = c.headDim(), kvDim = c.kvDim(), rows = ref.rows(0), d = c.hidden(), qDim = c.qDim();
        int past = ref.length(), w = c.window();
        float[] k = new float[rows * kvDim], v = new float[rows * kvDim];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(rounded(type, ref.keys(0), r * kvDim, kvDim), 0, k, r * kvDim, kvDim);
            System.arraycopy(rounded(type, ref.values(0), r * kvDim, kvDim), 0, v, r * kvDim, kvDim);
        }
        float[] q = rs.q.data(), wo = a.wo().weight().toFloatArray();
        float[] bo = a.wo().bias() == null ? new float[d] : a.wo().bias().toFloatArray();
        double[] o = new double[qDim], vMax = new double[qDim];
        for (int tok = 0; tok < t; tok++) {
            int qs = past + tok, lo = w > 0 ? Math.max(0, qs - w + 1) : 0;
            for (int h = 0; h < c.heads(); h++) {
                int col = h / c.groupSize() * dh;
                double[] sc = new double[qs - lo + 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = lo; j <= qs; j++) {
                    double dot = 0;
                    for (int i = 0; i < dh; i++) {
                        dot += (double) q[tok * qDim + h * dh + i] * k[(j % rows) * kvDim + col + i];
                    }
                    double sj = dot * c.effectiveScale();
                    sc[j - lo] = c.softcap() > 0 ? c.softcap() * Math.tanh(sj / c.softcap()) : sj;
                    max = Math.max(max, sc[j - lo]);
                }
                for (int j = 0; j < sc.length; j++) {
                    sc[j] = Math.exp(sc[j] - max);
                    sum += sc[j];
                }
                for (int i = 0; i < dh; i++) {
                    double acc = 0, vm = 0;
                    for (int j = lo; j <= qs; j++) {
                        double vj = v[(j % rows) * kvDim + col + i];
                        acc += sc[j - lo] / sum * vj;
                        vm = Math.max(vm, Math.abs(vj));
                    }
                    o[h * dh + i] = acc;
                    vMax[h * dh + i] = vm;
                }
            }
            for (int r = 0; r < d; r++) {
                double want = bo[r], scale = 1e-6;
                for (int i = 0; i < qDim; i++) {
                    want += (double) wo[r * qDim + i] * o[i];
                    scale += Math.abs(wo[r * qDim + i]) * vMax[i];
                }
                double err = Math.abs(y[tok * d + r] - want);
                assertTrue(err <= 1e-4 * scale, type + " token " + tok + " output " + r + ": " + y[tok * d + r]
                        + " vs reference " + want + " (error " + err + ", tolerance " + 1e-4 * scale + ")");
            }
        }
    }

    // C roundf (half away from zero) to an int code; exact in double for any float
    private static int code(float scaled) {
        return (int) Math.copySign(Math.floor(Math.abs((double) scaled) + 0.5), scaled);
    }

    // Test oracle: x[off .. off + n) as the type stores it. F16: round to nearest even and back. Q8_0 (ggml
    // quantize_row_q8_0_ref / dequantize_row_q8_0): per 32 values d = amax/127, code = roundf(x·(1/d)) (half away
    // from zero), value = code·f16(d).
    static float[] rounded(KvType type, float[] x, int off, int n) {
        float[] out = new float[n];
        for (int b = 0; b < n; b += 32) {
            float amax = 0;
            for (int i = b; i < Math.min(n, b + 32); i++) {
                amax = Math.max(amax, Math.abs(x[off + i]));
            }
            float d = amax / 127, id = d != 0 ? 1.0f / d : 0.0f;
            float d16 = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int i = b; i < Math.min(n, b + 32); i++) {
                float v = x[off + i];
                out[i] = type == KvType.F16 ? Float.float16ToFloat(Float.floatToFloat16(v))
                        : type == KvType.Q8_0 ? code(v * id) * d16
                        : v;
            }
        }
        return out;
    }

    // Largest storage error of x[at] in type; blockStart = first element of its Q8_0 block.
    private static double eps(KvType type, float[] x, int at, int blockStart) {
        if (type == KvType.F16) {
            return F16_REL * Math.abs(x[at]) + F16_ABS;
        }
        double amax = 0;
        for (int i = blockStart; i < blockStart + 32; i++) {
            amax = Math.max(amax, Math.abs(x[i]));
        }
        return amax / 254 + amax * F16_REL;
    }

    /**
     * Whole stacks with a typed cache: a prompt run as chunks of 4 and token by token, then decode, a rollback of
     * 3 entries and more decode, give the same final-norm outputs up to F32 rounding ({@link Runs#ROUNDING_TOL}):
     * each row is stored the same way whatever the chunking, so only GEMM blocking differs. The windowed layers
     * keep rings (window + 4 rows) that wrap.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"llama,F16", "qwen2-window,F16", "qwen2-window,Q8_0", "gemma2,Q8_0", "gpt2,Q8_0", "moe,F16"})
    void prefillEqualsDecodeWithTruncate(String family, KvType type) {
        DecoderStack stack = BatchFamilies.build(family, 0x9E1L ^ family.hashCode(), BatchFamilies.BLOCK_HEAD_DIM)
                .stack();
        StackSession chunked = stack.newSession(BatchFamilies.CONTEXT, 4, false, type);
        StackSession single = stack.newSession(BatchFamilies.CONTEXT, 4, false, type);
        int[] prompt = new int[14];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (17 * i + 5) % BatchFamilies.VOCAB;
        }
        for (int i = 0; i < prompt.length; i += 4) {
            stack.forward(java.util.Arrays.copyOfRange(prompt, i, Math.min(prompt.length, i + 4)), chunked);
        }
        for (int tok : prompt) {
            stack.decode(tok, single);
        }
        double worst = 0;
        for (int step = 0; step < 12; step++) {
            if (step == 6) {
                chunked.cache().truncate(chunked.position() - 3);
                single.cache().truncate(single.position() - 3);
            }
            int tok = (step * 7 + 2) % BatchFamilies.VOCAB;
            float[] a = stack.decode(tok, chunked).toFloatArray(), b = stack.decode(tok, single).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
        }
        assertTrue(worst <= Runs.ROUNDING_TOL, family + " " + type + ": chunked vs single differ by " + worst);
    }

    /**
     * LayerSkip self-speculative decoding over typed caches (rejected drafts are rolled back with truncate, rings
     * included): its greedy tokens equal plain greedy decoding of the same plan with the same cache type.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"llama,F16", "llama,Q8_0", "qwen2-window,F16", "qwen2-window,Q8_0"})
    void selfSpeculativeEqualsGreedy(String family, KvType type) {
        BatchFamilies.Model m = BatchFamilies.build(family, 0x5EL ^ family.hashCode(), BatchFamilies.BLOCK_HEAD_DIM);
        var ps = new dev.interlayer.nn.plan.PlannedStack(m.stack(),
                dev.interlayer.nn.plan.ExecutionPlan.identity(m.stack().layers()));
        int[] prompt = {3, 17, 29, 41, 5, 8};
        int[] want = dev.interlayer.nn.plan.SelfSpeculativeDecoder.greedy(ps, m.head(), prompt, 12, -1, 48, type);
        for (int e = 1; e <= 2; e++) {
            for (int n : new int[] {1, 3}) {
                var dec = new dev.interlayer.nn.plan.SelfSpeculativeDecoder(ps, m.head(), e, n, 48, 4, 0, 0, type);
                org.junit.jupiter.api.Assertions.assertArrayEquals(want, dec.generate(prompt, 12, -1).tokens(),
                        family + " " + type + " E = " + e + ", n = " + n);
            }
        }
    }

    /** Batched decode over typed caches equals decoding alone (same per-row code; see BatchDecoderTest). */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"llama,F16", "llama,Q8_0", "qwen2-window,Q8_0", "gemma2,F16", "olmo2,Q8_0"})
    void batchedEqualsAlone(String family, KvType type) {
        double worst = BatchFamilies.maxBatchVsAlone(family, type);
        assertTrue(worst <= Runs.ROUNDING_TOL, family + " " + type + ": batched differs from alone by " + worst);
    }

    @org.junit.jupiter.api.Test
    void q8RejectsHeadDimsThatAreNotWholeBlocks() {
        DecoderStack stack = BatchFamilies.build("llama", 3).stack();   // head dim 10
        var e = assertThrows(IllegalArgumentException.class,
                () -> stack.newSession(BatchFamilies.CONTEXT, 4, false, KvType.Q8_0));
        assertTrue(e.getMessage().contains("head dim 10") && e.getMessage().contains("q8_0"), e.getMessage());
        stack.newSession(BatchFamilies.CONTEXT, 4, false, KvType.F16);   // F16 takes any width
        var p = assertThrows(IllegalArgumentException.class, () -> KvType.parse("--kv-type", "q4_0"));
        assertEquals("--kv-type: unknown KV cache type 'q4_0'; allowed: f32, f16, q8_0", p.getMessage());
        assertEquals(KvType.Q8_0, KvType.parse("--kv-type", "Q8_0"));
        var f = assertThrows(IllegalStateException.class,
                () -> stack.newSession(BatchFamilies.CONTEXT, 4, false, KvType.F16).cache().keys(0));
        assertTrue(f.getMessage().contains("readKey"), f.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"F32", "F16", "Q8_0"})
    void cacheBytesAreTheStorageSize(KvType type) {
        DecoderStack stack = BatchFamilies.build("qwen2-window", 7, BatchFamilies.BLOCK_HEAD_DIM).stack();
        StackSession s = stack.newSession(BatchFamilies.CONTEXT, 8, false, type);
        KvCache c = s.cache();
        long want = 0;
        for (int l = 0; l < stack.layers(); l++) {
            int kvDim = stack.blocks().get(l).config().attention().kvDim();
            long row = switch (type) {
                case F32 -> 4L * kvDim;
                case F16 -> 2L * kvDim;
                case Q8_0 -> kvDim / 32 * (2 + 32);   // per block: f16 scale + 32 int8 codes
            };
            want += 2 * c.rows(l) * row;
        }
        assertEquals(type, c.type());
        assertEquals(want, c.bytes(), type + " cache bytes");
        assertTrue(c.isRing(0) && c.rows(0) == 4 + 8, "layer 0 keeps a ring of window + chunk rows");
    }
}
