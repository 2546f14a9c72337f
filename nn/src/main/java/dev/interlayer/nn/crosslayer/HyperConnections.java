package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.plan.Embeddings;
import dev.interlayer.nn.plan.Sublayers;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;

/**
 * Static hyper-connections ("Hyper-Connections", Zhu et al.) composed around unchanged Pre-LN blocks: n residual
 * streams H ∈ R^{n×d} per token, H⁰ = [x₀; …; x₀]. For every sublayer k (attention, then FFN, of each layer):
 * <pre>
 *   h_in = Σ_s A_m[s]·H[s];   out = F_k(N_k(h_in));   H'[e] = Σ_s A_r[s, e]·H[s] + B[e]·out
 *   final: x_L = Σ_e H^L[e] → N_f
 * </pre>
 * The sublayer F_k(N_k(·)) is the block's own (its attention keeps its KV cache, fed with h_in); it is obtained as
 * Sublayer(h_in) − h_in, which is exact up to one float rounding. The dynamic variant is not implemented (no
 * official code pins its normalization and transposes).
 *
 * <p>Shapes: A_m [2L][n]; A_r [2L][n·n] row-major (A_r[s, e]); B [2L][n].
 */
public final class HyperConnections {
    private final DecoderStack stack;
    private final int rate;
    private final float[][] am, ar, b;
    private final float[] ones;  // [n] all 1: the final sum of streams

    /**
     * @throws IllegalArgumentException if a block is not sequential PRE with α = 1, or a parameter has the wrong size
     */
    public HyperConnections(DecoderStack stack, int rate, float[][] am, float[][] ar, float[][] b) {
        int subs = 2 * stack.layers();
        if (rate < 1 || am.length != subs || ar.length != subs || b.length != subs) {
            throw new IllegalArgumentException("hyper-connections: need rate >= 1 and " + subs
                    + " parameter sets (2 per layer), got rate " + rate + " and " + am.length + "/" + ar.length + "/"
                    + b.length);
        }
        for (int k = 0; k < subs; k++) {
            if (am[k].length != rate || ar[k].length != rate * rate || b[k].length != rate) {
                throw new IllegalArgumentException("hyper-connections sublayer " + k + ": A_m, A_r, B must have "
                        + rate + ", " + rate * rate + ", " + rate + " entries");
            }
        }
        for (int l = 0; l < stack.layers(); l++) {
            TransformerBlock blk = stack.blocks().get(l);
            if (blk.config().parallel() || blk.config().placement() != NormPlacement.PRE
                    || blk.config().residualAlpha() != 1f) {
                throw new IllegalArgumentException("hyper-connections need sequential PRE blocks with α = 1; layer " + l
                        + " is not");
            }
        }
        this.stack = stack;
        this.rate = rate;
        this.am = am.clone();
        this.ar = ar.clone();
        this.b = b.clone();
        this.ones = new float[rate];
        java.util.Arrays.fill(ones, 1f);
    }

    /** The initialization of the paper: A_m = e_{k mod n}, A_r = I, B = 1 (each stream equals the Pre-LN stream). */
    public static HyperConnections initial(DecoderStack stack, int rate) {
        int subs = 2 * stack.layers();
        float[][] am = new float[subs][rate], ar = new float[subs][rate * rate], b = new float[subs][rate];
        for (int k = 0; k < subs; k++) {
            am[k][k % rate] = 1f;
            for (int e = 0; e < rate; e++) {
                ar[k][e * rate + e] = 1f;
                b[k][e] = 1f;
            }
        }
        return new HyperConnections(stack, rate, am, ar, b);
    }

    /** Per-session state: one KV cache per layer, n streams (double-buffered), scratch. */
    public final class Session {
        private final KvCache[] caches;
        private final TransformerBlock.State[] states;
        private final Sublayers sublayers;
        private final RowBuffer[] h, next;     // [n] of [maxTokens, d]
        private final RowBuffer in, y, out;   // [maxTokens, d]
        private final int maxTokens;
        private int length;

        Session(int contextLength, int maxTokens) {
            int layers = stack.layers(), d = stack.blocks().get(0).config().hidden();
            this.maxTokens = Math.min(maxTokens, contextLength);
            caches = new KvCache[layers];
            states = new TransformerBlock.State[layers];
            for (int l = 0; l < layers; l++) {
                caches[l] = new KvCache(contextLength, stack.blocks().get(l).config().attention().kvDim());
                states[l] = stack.blocks().get(l).newState(caches[l], 0, this.maxTokens);
            }
            sublayers = new Sublayers(this.maxTokens, d);
            h = new RowBuffer[rate];
            next = new RowBuffer[rate];
            for (int e = 0; e < rate; e++) {
                h[e] = new RowBuffer(this.maxTokens, d);
                next[e] = new RowBuffer(this.maxTokens, d);
            }
            in = new RowBuffer(this.maxTokens, d);
            y = new RowBuffer(this.maxTokens, d);
            out = new RowBuffer(this.maxTokens, d);
        }
    }

    /** A session of contextLength positions and calls of at most maxTokens tokens. */
    public Session newSession(int contextLength, int maxTokens) {
        return new Session(contextLength, maxTokens);
    }

    /**
     * Runs a chunk at the next positions; returns N_f(Σ_e H^L[e]) [T, d] (a view into the session).
     *
     * @throws IllegalArgumentException for a chunk outside [1, maxTokens]
     */
    public Tensor forward(int[] tokens, Session s) {
        int t = tokens.length;
        if (t < 1 || t > s.maxTokens) {
            throw new IllegalArgumentException("chunk of " + t + " tokens: must be in [1, maxTokens=" + s.maxTokens
                    + "]");
        }
        Tensor x0 = Embeddings.x0(stack, tokens, s.length, null, s.in.rows(t));
        for (int e = 0; e < rate; e++) {
            s.h[e].rows(t).copyFrom(x0);
        }
        RowBuffer[] cur = s.h, nxt = s.next;
        for (int l = 0; l < stack.layers(); l++) {
            TransformerBlock blk = stack.blocks().get(l);
            for (int sub = 0; sub < 2; sub++) {
                int k = 2 * l + sub;
                Tensor hin = s.in.rows(t), y = s.y.rows(t);
                mix(am[k], cur, t, hin);
                y.copyFrom(hin);
                if (sub == 0) {
                    s.sublayers.attention(blk, y, s.states[l], null);
                    s.caches[l].advance(t);
                } else {
                    s.sublayers.ffn(blk, y, s.states[l].ffn());
                }
                Ops.sub(y, hin, y);                      // out = F(N(h_in))
                for (int e = 0; e < rate; e++) {
                    Tensor dst = nxt[e].rows(t);
                    for (int src = 0; src < rate; src++) {
                        float w = ar[k][src * rate + e];
                        if (src == 0) {
                            Ops.scale(cur[src].rows(t), w, dst);
                        } else {
                            Ops.axpy(w, cur[src].rows(t), dst);
                        }
                    }
                    Ops.axpy(b[k][e], y, dst);
                }
                RowBuffer[] swap = cur;
                cur = nxt;
                nxt = swap;
            }
        }
        Tensor sum = s.in.rows(t);
        mix(ones, cur, t, sum);                           // x_L = Σ_e H[e]
        s.length += t;
        return stack.finalNorm(sum, s.out.rows(t));
    }

    // dst = Σ_s w[s]·streams[s]
    private void mix(float[] w, RowBuffer[] streams, int t, Tensor dst) {
        Ops.scale(streams[0].rows(t), w[0], dst);
        for (int s = 1; s < rate; s++) {
            Ops.axpy(w[s], streams[s].rows(t), dst);
        }
    }
}
