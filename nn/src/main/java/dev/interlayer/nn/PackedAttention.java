package dev.interlayer.nn;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;

/**
 * Bidirectional multi-head attention (Vaswani et al. 2017, "Attention Is All You Need") over a
 * {@link PackedBatch}, each query attending to the keys of its own sequence only:
 * <pre>
 *   q = x·Wqᵀ + bq,  k = x·Wkᵀ + bk,  v = x·Wvᵀ + bv                      (all n packed rows at once)
 *   o[i, h] = Σ_{j ∈ seq(i)} softmax_j(τ · q[i, h]·k[j, g]) · v[j, g],   g = h / (Hq / Hkv)
 *   y = concat_h(o[·, h])·Woᵀ + bo
 * </pre>
 * For the real tokens this equals a padded batch with a key padding mask of −∞ on the padding, as
 * BERT (Devlin et al. 2018) computes it, without any work on padded rows.
 *
 * <p>Per (sequence, head): sequences of at least {@value #MATMUL_MIN} tokens run two small matrix
 * products on strided views of the packed activations, S = Q_h·K_gᵀ [len, len] and o_h = softmax(τS)·V_g,
 * so the register-tiled GEMM does the O(len²·dh) work; shorter ones use one dot/axpy per key, which costs
 * less than the per-call overhead of two GEMMs (measured on MiniLM: 1.37× faster at 128 tokens, 12% slower
 * at ~10 tokens through the GEMMs). Tasks are split into a few chunks per pool thread.
 *
 * <p>Supports MHA and grouped KV heads with the score scale τ; rotary or ALiBi positions, windows,
 * soft-capping and QK-norm are rejected by {@link #requireSupported} (the single-sequence
 * {@link EncoderStack#forward} path has them).
 */
final class PackedAttention {
    /** Sequences at least this long take the GEMM form. */
    static final int MATMUL_MIN = 32;

    private PackedAttention() {
    }

    /**
     * @throws UnsupportedOperationException naming the feature, if {@code c} needs what the packed path lacks
     */
    static void requireSupported(AttentionConfig c, int layer) {
        String what = c.causal() ? "causal masking" : c.window() > 0 ? "a sliding window"
                : c.positions() != PositionEncoding.NONE ? c.positions() + " positions"
                : c.softcap() > 0 ? "soft-capping" : c.qkNorm() != QkNorm.NONE ? "QK-norm" : null;
        if (what != null) {
            throw new UnsupportedOperationException("packed encoder attention (block " + layer + ") has no " + what
                    + "; it supports bidirectional MHA/GQA with learned or no positions. Encode one sequence at a"
                    + " time with EncoderStack.forward instead");
        }
    }

    /**
     * out = y above for the packed rows of x. Shapes: x, out [n, d]; q, o [n, Hq·dh]; k, v [n, Hkv·dh]
     * (heap F32 scratch, overwritten).
     */
    static void forward(Attention a, Tensor x, Tensor out, PackedBatch batch, Tensor q, Tensor k, Tensor v,
                        Tensor o) {
        a.wq().apply(x, q);
        a.wk().apply(x, k);
        a.wv().apply(x, v);
        core(a.config(), q, k, v, batch, o);
        a.wo().apply(o, out);
    }

    /** o = the per-sequence softmax(τ·Q·Kᵀ)·V above, every head. */
    static void core(AttentionConfig c, Tensor q, Tensor k, Tensor v, PackedBatch batch, Tensor o) {
        int heads = c.heads(), d = c.headDim(), group = c.groupSize();
        float tau = c.effectiveScale();
        SoftmaxOptions scaled = new SoftmaxOptions(tau, 0f, null, false, 0, 0);
        int tasks = batch.sequences() * heads;
        if (tasks == 0) {
            return;
        }
        int scoreSize = batch.maxLength() * batch.maxLength();
        int chunks = Math.min(tasks, ComputePool.threads() * 4);
        ComputePool.parallelFor(chunks, ch -> {
            float[] scores = new float[Math.max(scoreSize, 1)];     // S [len, len] of one (sequence, head)
            for (int task = (int) ((long) tasks * ch / chunks), end = (int) ((long) tasks * (ch + 1) / chunks);
                    task < end; task++) {
                int b = task / heads, h = task % heads, g = h / group;
                int start = batch.start(b), len = batch.length(b);
                if (len == 0) {
                    continue;
                }
                if (len < MATMUL_MIN) {
                    attendByRows(q, k, v, o, start, len, h * d, g * d, d, tau, scores);
                    continue;
                }
                Tensor qh = headView(q, start, len, h, d);            // [len, dh], row stride Hq·dh
                Tensor kh = headView(k, start, len, g, d);            // [len, dh], row stride Hkv·dh
                Tensor vh = headView(v, start, len, g, d);
                Tensor s = Tensor.wrap(scores, Shape.of(scores.length)).narrow(0, 0, len * len).reshape(len, len);
                Ops.matmulT(qh, kh, s);                                // S = Q_h · K_gᵀ
                Ops.softmax(s, scaled, s);                             // P = softmax(τ·S) per row
                Ops.matmul(s, vh, headView(o, start, len, h, d));      // o_h = P · V_g
            }
        });
    }

    /**
     * One (sequence, head) row by row: o[i] = Σ_j softmax_j(τ·q_i·k_j) v_j. Query/output columns start at
     * qCol of rows of width Hq·dh, key/value columns at kCol of rows of width Hkv·dh; p [≥ len] scratch.
     */
    private static void attendByRows(Tensor qt, Tensor kt, Tensor vt, Tensor ot, int start, int len, int qCol,
                                     int kCol, int d, float tau, float[] p) {
        float[] q = qt.heapFloats(), k = kt.heapFloats(), v = vt.heapFloats(), out = ot.heapFloats();
        int qw = qt.dim(1), kw = kt.dim(1);
        for (int i = 0; i < len; i++) {
            int qi = (start + i) * qw + qCol;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < len; j++) {
                p[j] = Ops.dot(q, qi, k, (start + j) * kw + kCol, d) * tau;
                max = Math.max(max, p[j]);
            }
            float sum = 0;
            for (int j = 0; j < len; j++) {
                p[j] = (float) Math.exp(p[j] - max);
                sum += p[j];
            }
            Arrays.fill(out, qi, qi + d, 0f);
            for (int j = 0; j < len; j++) {
                Ops.axpy(p[j] / sum, v, (start + j) * kw + kCol, out, qi, d);
            }
        }
    }

    /** Rows [start, start + len) and columns [head·d, (head + 1)·d) of t, as a view. */
    private static Tensor headView(Tensor t, int start, int len, int head, int d) {
        return t.narrow(0, start, len).narrow(1, head * d, d);
    }
}
