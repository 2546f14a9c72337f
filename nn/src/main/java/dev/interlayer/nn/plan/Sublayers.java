package dev.interlayer.nn.plan;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;

/**
 * Runs one sublayer of a {@link TransformerBlock} by itself, from the block's public parts, with the same
 * residual rules as the block: sequential x ← combine(x, F(s·N_in(x))) per placement (PRE: x + f; PERI/OUTPUT:
 * x + N_out(f); POST: N_out(x + f); DeepNorm α scales the skip); parallel x ← α·x + Σ of the kept sublayers.
 *
 * <p>Why it exists: {@link TransformerBlock#forward} always runs both sublayers, and dropping only the attention
 * or only the MLP ("What Matters in Transformers?") or reading the stream between them needs them one at a time.
 * The minimal hook the block could offer instead: {@code forwardAttention(x, st, positions)} and
 * {@code forwardFfn(x, st)} (this class then reduces to calling them).
 *
 * <p>Shapes: x [T, d]; scratch rows [maxTokens, d]. Mutable scratch: one thread owns it.
 */
public final class Sublayers {
    private final RowBuffer u;  // [maxTokens, d] normed input
    private final RowBuffer a;  // [maxTokens, d] attention output
    private final RowBuffer m;  // [maxTokens, d] ffn output

    /** Scratch for calls of up to maxTokens tokens of width d. */
    public Sublayers(int maxTokens, int d) {
        u = new RowBuffer(maxTokens, d);
        a = new RowBuffer(maxTokens, d);
        m = new RowBuffer(maxTokens, d);
    }

    /**
     * x ← the block with only the kept sublayers (both kept = the full block, same kernels and order as
     * {@link TransformerBlock#forward}). {@code attn} may be null when attention is skipped.
     */
    public void forward(TransformerBlock b, Tensor x, TransformerBlock.State attn, FeedForward.Scratch ffn,
                        int[] positions, boolean runAttn, boolean runFfn) {
        if (b.config().parallel()) {
            parallel(b, x, attn, ffn, positions, runAttn, runFfn);
            return;
        }
        if (runAttn) {
            attention(b, x, attn, positions);
        }
        if (runFfn) {
            ffn(b, x, ffn);
        }
    }

    /** x ← combine(x, Attn(s·N_attn(x))) (sequential blocks). */
    public void attention(TransformerBlock b, Tensor x, TransformerBlock.State st, int[] positions) {
        int t = x.dim(0);
        NormPlacement p = b.config().placement();
        Tensor out = a.rows(t);
        Tensor in = p.hasInputNorm() ? b.config().normalizeInput(b.attnIn(), x, u.rows(t)) : x;
        b.attention().forward(in, out, st.attention(), positions);
        p.residual(x, out, b.attnOut(), b.config().residualAlpha());
    }

    /** x ← combine(x, FFN(s·N_ffn(x))) (sequential blocks). */
    public void ffn(TransformerBlock b, Tensor x, FeedForward.Scratch scratch) {
        int t = x.dim(0);
        NormPlacement p = b.config().placement();
        Tensor out = m.rows(t);
        b.ffn().forward(p.hasInputNorm() ? b.config().normalizeInput(b.ffnIn(), x, u.rows(t)) : x, out, scratch);
        p.residual(x, out, b.ffnOut(), b.config().residualAlpha());
    }

    private void parallel(TransformerBlock b, Tensor x, TransformerBlock.State attn, FeedForward.Scratch scratch,
                          int[] positions, boolean runAttn, boolean runFfn) {
        int t = x.dim(0);
        Tensor un = b.config().normalizeInput(b.attnIn(), x, u.rows(t));
        Tensor ao = a.rows(t), mo = m.rows(t);
        if (runAttn) {
            b.attention().forward(un, ao, attn.attention(), positions);
        }
        if (runFfn) {
            // a second input norm overwrites u, so the attention (if any) has already consumed it
            Tensor u2 = b.ffnIn() == null ? un : b.config().normalizeInput(b.ffnIn(), x, un);
            b.ffn().forward(u2, mo, scratch);
        }
        NormPlacement.scaleSkip(x, b.config().residualAlpha());
        if (runAttn) {
            Ops.add(x, ao, x);
        }
        if (runFfn) {
            Ops.add(x, mo, x);
        }
    }
}
