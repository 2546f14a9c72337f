package dev.interlayer.nn;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.function.IntConsumer;

/**
 * One attention layer decoding one token for each of n independent sequences: the Q/K/V and output
 * projections run once over the n rows (one pass over their weights), everything per sequence (biases,
 * QK-norm, RoPE at the sequence's own position, the KV-cache write, the attention core) runs on that
 * sequence's own {@link Attention.State}, through the same code as a single decode step
 * ({@link Attention#prepare}, {@link Attention.State#decodeGroup}). With the row-exact products of
 * {@code Ops.matmulT} (up to {@code GemmKernel.ROW_EXACT_MAX} rows), row i equals a single decode of sequence i.
 *
 * <p>Shapes: x, out [n, d]; q, o [maxBatch, Hq·dh]; k, v [maxBatch, Hkv·dh]. Mutable scratch; one thread owns it.
 */
final class BatchAttention implements IntConsumer {
    private final Attention layer;
    private final RowBuffer q, k, v, o;
    private final Tensor[] projW;
    private final Tensor[] projOut = new Tensor[3];
    /** The sequences' states of this layer for the current call ([0, n) set by the caller). */
    final Attention.State[] states;

    BatchAttention(Attention layer, int maxBatch, ScratchPool pool) {
        AttentionConfig c = layer.config();
        this.layer = layer;
        this.q = ScratchPool.rows(pool, "batch attention q", maxBatch, c.qDim());
        this.k = ScratchPool.rows(pool, "batch attention k", maxBatch, c.kvDim());
        this.v = ScratchPool.rows(pool, "batch attention v", maxBatch, c.kvDim());
        this.o = ScratchPool.rows(pool, "batch attention o", maxBatch, c.qDim());
        this.projW = new Tensor[] {layer.wq().weight(), layer.wk().weight(), layer.wv().weight()};
        this.states = new Attention.State[maxBatch];
    }

    /** out = Attention(x) with row i the next token of the sequence whose state is states[i], i &lt; n. */
    void forward(Tensor x, Tensor out, int n) {
        AttentionConfig c = layer.config();
        int qDim = c.qDim(), kvDim = c.kvDim();
        for (int i = 0; i < n; i++) {   // before any work: no sequence's cache is touched by a refused call
            if (states[i].k == null) {
                throw new IllegalArgumentException("batched decode: layer state " + i + " reads a shared cache"
                        + " (cross-layer KV sharing), which batched decode does not run");
            }
        }
        projOut[0] = q.rows(n);
        projOut[1] = k.rows(n);
        projOut[2] = v.rows(n);
        Ops.matmulT(x, projW, projOut);
        for (int i = 0; i < n; i++) {
            Attention.State st = states[i];
            int maxPos = layer.begin(st, null, 1);
            System.arraycopy(q.data(), i * qDim, st.q.data(), 0, qDim);
            System.arraycopy(k.data(), i * kvDim, st.k.data(), 0, kvDim);
            System.arraycopy(v.data(), i * kvDim, st.v.data(), 0, kvDim);
            layer.prepare(st, maxPos, 1);
        }
        ComputePool.parallelFor(n * c.kvHeads(), this); // one task per (sequence, KV head)
        for (int i = 0; i < n; i++) {
            System.arraycopy(states[i].o.data(), 0, o.data(), i * qDim, qDim);
        }
        layer.wo().apply(o.rows(n), out);
    }

    /** Task {@code task}: KV head task mod Hkv of sequence task / Hkv, as a single decode step runs it. */
    @Override
    public void accept(int task) {
        int kvHeads = layer.config().kvHeads();
        states[task / kvHeads].decodeGroup(task % kvHeads);
    }
}
