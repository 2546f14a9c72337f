package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The blocks of an {@link EncoderStack} run on a {@link PackedBatch}: every sublayer sees the n packed
 * rows, attention is restricted to each sequence ({@link PackedAttention}). Per block, with skip weight α
 * and LayerNorm-Scaling factor s from its {@link BlockConfig} (sequential blocks only):
 * <pre>
 *   PRE    x' = α·x + F(s·N_in(x))        POST   x' = N_out(α·x + F(x))
 *   PERI   x' = α·x + N_out(F(s·N_in(x))) OUTPUT x' = α·x + N_out(F(x))      NONE x' = α·x + F(x)
 * </pre>
 * for F = attention, then F = feed-forward. Activations are allocated per call (n is the batch's row
 * count, not known in advance), once per call and shared by all blocks.
 */
final class PackedEncoder {
    private final PackedBatch batch;
    private final int n;
    private final Map<Integer, Tensor[]> headBuffers = new HashMap<>(); // width → {q, o} or {k, v}
    private final Map<Object, FeedForward.Scratch> scratch = new HashMap<>();
    private final Tensor f;   // [n, d] sublayer output
    private Tensor u;         // [n, d] normed sublayer input, when some block has input norms

    private PackedEncoder(List<TransformerBlock> blocks, PackedBatch batch) {
        this.batch = batch;
        this.n = batch.rows();
        this.f = Tensor.zeros(n, blocks.get(0).config().hidden());
    }

    /**
     * x ← blocks(x) in place. Shapes: x [n, d] heap F32, n = batch.rows() ≥ 1.
     *
     * @throws UnsupportedOperationException if a block is parallel or its attention needs what the packed
     *                                       path lacks (see {@link PackedAttention#requireSupported})
     */
    static void run(List<TransformerBlock> blocks, Tensor x, PackedBatch batch) {
        requireSupported(blocks);
        PackedEncoder e = new PackedEncoder(blocks, batch);
        for (TransformerBlock b : blocks) {
            e.block(b, x);
        }
    }

    static void requireSupported(List<TransformerBlock> blocks) {
        for (int l = 0; l < blocks.size(); l++) {
            if (blocks.get(l).config().parallel()) {
                throw new UnsupportedOperationException("packed encoder: block " + l + " is a parallel"
                        + " (GPT-J) block; only sequential blocks are supported");
            }
            PackedAttention.requireSupported(blocks.get(l).config().attention(), l);
        }
    }

    private void block(TransformerBlock b, Tensor x) {
        BlockConfig c = b.config();
        NormPlacement p = c.placement();
        AttentionConfig ac = c.attention();
        Tensor[] qo = heads(ac.qDim(), 0), kv = heads(ac.kvDim(), 1);
        PackedAttention.forward(b.attention(), input(b.attnIn(), x, c), f, batch, qo[0], kv[0], kv[1], qo[1]);
        residual(x, b.attnOut(), c.residualAlpha(), p);
        b.ffn().forward(input(b.ffnIn(), x, c), f, scratch.computeIfAbsent(scratchKey(b.ffn()),
                key -> b.ffn().newScratch(n)));
        residual(x, b.ffnOut(), c.residualAlpha(), p);
    }

    // An Mlp's scratch is one [n, f] buffer that any Mlp of the same f may use, so BERT's blocks share one
    // (as they run one after another) instead of each allocating [n, f] per call; other kinds get their own.
    private static Object scratchKey(FeedForward ffn) {
        return ffn instanceof Mlp m ? List.of(Mlp.class, m.up().out()) : ffn;
    }

    // Two [n, width] buffers per head width: kind 0 = {q, o}, kind 1 = {k, v}.
    private Tensor[] heads(int width, int kind) {
        return headBuffers.computeIfAbsent(width * 2 + kind, key -> new Tensor[] {Tensor.zeros(n, width),
                Tensor.zeros(n, width)});
    }

    // The sublayer input: s·N_in(x), or x itself when the placement has no input norm.
    private Tensor input(Norm in, Tensor x, BlockConfig c) {
        if (in == null) {
            return x;
        }
        if (u == null) {
            u = Tensor.zeros(n, c.hidden());
        }
        in.apply(x, u);
        if (c.normScale() != 1f) {
            Ops.scale(u, c.normScale(), u);
        }
        return u;
    }

    // x ← x' from x and the sublayer output f per placement (f may be overwritten).
    private void residual(Tensor x, Norm out, float alpha, NormPlacement p) {
        if (p == NormPlacement.PERI || p == NormPlacement.OUTPUT) {
            out.apply(f, f);
        }
        if (alpha != 1f) {
            Ops.scale(x, alpha, x);
        }
        Ops.add(x, f, x);
        if (p == NormPlacement.POST) {
            out.apply(x, x);
        }
    }
}
