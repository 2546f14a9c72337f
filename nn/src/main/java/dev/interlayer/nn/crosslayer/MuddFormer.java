package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Norm;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.ScratchPool;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.plan.Embeddings;
import dev.interlayer.nn.plan.Sublayers;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import java.util.List;

/**
 * MUDDFormer multiway dynamic dense connections ("MUDDFormer: Breaking Residual Bottlenecks in Transformers via
 * Multiway Dynamic Dense Connections", Xiao et al.) over a Pre-LN stack's blocks. X_0 = x₀, X_{i+1} = output of
 * block i; after block i (n_i = i + 2 entries, C = 4 streams Q, K, V, R, or C = 1 after the last block):
 * <pre>
 *   z = X_{i+1} / sqrt(mean(X_{i+1}²) + ε);   w = reshape(W2_i·GELU(W1_i·z), [C, n_i]) + B_i      (per token)
 *   S_c = Σ_j w[c, j]·X_j
 *   block i+1:  a = Attn(q from N_q(S_Q), k from N_k(S_K), v from N_v(S_V));  h = S_R + a;  X = h + FFN(N(h))
 *   output N_f(S_single)
 * </pre>
 * Block 0 reads x₀ through its own attention norm. Dense weights are per token (no cross-position mixing): the
 * session keeps X_j only for the current call's tokens; attention caches are per layer as usual. The attention is
 * the engine's {@link Attention} with q, k and v projected from their three streams
 * ({@link Attention#forward(Tensor, Tensor, Tensor, Tensor, Attention.State)}).
 *
 * @see CrossLayerStack for the supported attention features (RoPE without dynamic NTK, GQA, QK-norm, soft-cap, window)
 */
public final class MuddFormer {
    /**
     * Parameters of the dense connection after block i.
     *
     * @param w1   [hid_i, d]
     * @param w2   [C·n_i, hid_i] (C = 4, or 1 after the last block)
     * @param bias [C·n_i] static weights B_i, row c = stream c
     */
    public record Dense(Linear w1, Linear w2, float[] bias) {
    }

    private final DecoderStack stack;
    private final List<Dense> dense;
    private final List<Norm[]> norms;   // [L] three attention norms (q, k, v) for blocks ≥ 1; index 0 unused
    private final float eps;
    private final Tensor zeroGain;      // [d] zeros: RMSNorm with (1 + 0) gain = no scale

    /**
     * @param norms per block the query, key and value input norms (entry 0 ignored: block 0 uses its own norm)
     * @param eps   ε of the scale-free RMSNorm on X_{i+1}
     * @throws IllegalArgumentException if a block is not PRE sequential, or a dense/norm shape does not fit
     */
    public MuddFormer(DecoderStack stack, List<Dense> dense, List<Norm[]> norms, float eps) {
        int layers = stack.layers(), d = stack.blocks().get(0).config().hidden();
        if (dense.size() != layers || norms.size() != layers) {
            throw new IllegalArgumentException("MUDDFormer: need " + layers + " dense connections and norm triples, got "
                    + dense.size() + " and " + norms.size());
        }
        new CrossLayerStack(stack, CrossLayerConfig.none()); // same attention-feature checks
        for (int i = 0; i < layers; i++) {
            int c = i < layers - 1 ? 4 : 1, n = i + 2;
            Dense dn = dense.get(i);
            if (dn.w1().in() != d || dn.w2().in() != dn.w1().out() || dn.w2().out() != c * n
                    || dn.bias().length != c * n) {
                throw new IllegalArgumentException("MUDDFormer dense " + i + ": need W1 [hid, " + d + "], W2 [" + c * n
                        + ", hid], B [" + c * n + "]");
            }
            if (i > 0 && (norms.get(i) == null || norms.get(i).length != 3)) {
                throw new IllegalArgumentException("MUDDFormer block " + i + " needs three attention norms (q, k, v)");
            }
            if (stack.blocks().get(i).config().residualAlpha() != 1f || stack.blocks().get(i).config().normScale() != 1f
                    || stack.blocks().get(i).config().placement() != NormPlacement.PRE) {
                throw new IllegalArgumentException("MUDDFormer block " + i + " must be plain PRE (α = 1, no LNS)");
            }
        }
        this.stack = stack;
        this.dense = List.copyOf(dense);
        this.norms = norms.stream().map(n -> n == null ? new Norm[0] : n.clone()).toList(); // entry 0 may be null
        this.eps = eps;
        this.zeroGain = Tensor.zeros(d);
    }

    /** Per-session state (KV cache and attention states, stored X_j, streams, scratch); preallocated. */
    public final class Session {
        final KvCache cache;            // one layer per block
        final Attention.State[] attn;   // [L]
        final RowBuffer[] xs;           // [L + 1] X_j rows of the current call
        final RowBuffer[] streams;      // [4] S_Q, S_K, S_V, S_R
        final RowBuffer[] hid, wd;      // [L] dense scratch
        final RowBuffer uq, uk, uv, a, z;
        final Sublayers sublayers;
        final dev.interlayer.nn.FeedForward.Scratch[] ffn;
        final int maxTokens, contextLength;

        Session(int contextLength, int maxTokens) {
            int layers = stack.layers();
            AttentionConfig c0 = stack.blocks().get(0).config().attention();
            int d = c0.hidden(), mt = Math.min(maxTokens, contextLength);
            this.maxTokens = mt;
            this.contextLength = contextLength;
            int[] kvDims = new int[layers];
            for (int l = 0; l < layers; l++) {
                kvDims[l] = stack.blocks().get(l).config().attention().kvDim();
            }
            cache = new KvCache(contextLength, kvDims);
            attn = new Attention.State[layers];
            ffn = new dev.interlayer.nn.FeedForward.Scratch[layers];
            hid = new RowBuffer[layers];
            wd = new RowBuffer[layers];
            ScratchPool pool = new ScratchPool();   // the blocks run one after another: one set of temporaries
            for (int l = 0; l < layers; l++) {
                attn[l] = stack.blocks().get(l).attention().newState(cache, l, mt, pool);
                ffn[l] = stack.blocks().get(l).ffn().newScratch(mt);
                hid[l] = new RowBuffer(mt, dense.get(l).w1().out());
                wd[l] = new RowBuffer(mt, dense.get(l).w2().out());
            }
            xs = new RowBuffer[layers + 1];
            for (int j = 0; j <= layers; j++) {
                xs[j] = new RowBuffer(mt, d);
            }
            streams = new RowBuffer[4];
            for (int s = 0; s < 4; s++) {
                streams[s] = new RowBuffer(mt, d);
            }
            uq = new RowBuffer(mt, d);
            uk = new RowBuffer(mt, d);
            uv = new RowBuffer(mt, d);
            a = new RowBuffer(mt, d);
            z = new RowBuffer(mt, d);
            sublayers = new Sublayers(mt, d);
        }
    }

    /** A session of contextLength positions and calls of at most maxTokens tokens. */
    public Session newSession(int contextLength, int maxTokens) {
        return new Session(contextLength, maxTokens);
    }

    /** Runs a chunk at the next positions; returns N_f(S_single) [T, d] (a view into the session). */
    public Tensor forward(int[] tokens, Session s) {
        int t = tokens.length, past = s.cache.length(), layers = stack.layers();
        if (t < 1 || t > s.maxTokens || past + t > s.contextLength) {
            throw new IllegalArgumentException("chunk of " + t + " tokens at position " + past + ": need 1 <= T <= "
                    + s.maxTokens + " and the end within " + s.contextLength);
        }
        Embeddings.x0(stack, tokens, past, null, s.xs[0].rows(t));
        for (int i = 0; i < layers; i++) {
            TransformerBlock b = stack.blocks().get(i);
            Tensor x = s.xs[i + 1].rows(t);
            if (i == 0) {
                Tensor u = b.attnIn().apply(s.xs[0].rows(t), s.uq.rows(t));
                b.attention().forward(u, s.a.rows(t), s.attn[i]);
                x.copyFrom(s.xs[0].rows(t));
            } else {
                Norm[] nn = norms.get(i);
                b.attention().forward(nn[0].apply(s.streams[0].rows(t), s.uq.rows(t)),
                        nn[1].apply(s.streams[1].rows(t), s.uk.rows(t)), nn[2].apply(s.streams[2].rows(t),
                                s.uv.rows(t)), s.a.rows(t), s.attn[i]);
                x.copyFrom(s.streams[3].rows(t));
            }
            Ops.add(x, s.a.rows(t), x);                       // h = S_R + a
            s.sublayers.ffn(b, x, s.ffn[i]);                  // X_{i+1} = h + FFN(N(h))
            connect(i, t, s);
        }
        s.cache.advance(t);
        return stack.finalNorm(s.streams[0].rows(t), s.uq.rows(t));
    }

    // S_c = Σ_j (W2·GELU(W1·z) + B)[c, j]·X_j per token, for the C streams after block i
    private void connect(int i, int t, Session s) {
        int layers = stack.layers(), c = i < layers - 1 ? 4 : 1, n = i + 2;
        int d = stack.blocks().get(0).config().hidden();
        Tensor z = s.z.rows(t);
        Ops.rmsNorm(s.xs[i + 1].rows(t), zeroGain, eps, true, z);
        Dense dn = dense.get(i);
        Tensor h = dn.w1().apply(z, s.hid[i].rows(t));
        Ops.unary(Unary.GELU_ERF, h, h);
        dn.w2().apply(h, s.wd[i].rows(t));
        float[] w = s.wd[i].data();
        for (int st = 0; st < c; st++) {
            float[] dst = s.streams[st].data();
            java.util.Arrays.fill(dst, 0, t * d, 0f);
            for (int j = 0; j < n; j++) {
                float[] src = s.xs[j].data();
                for (int r = 0; r < t; r++) {
                    float wj = w[r * c * n + st * n + j] + dn.bias()[st * n + j];
                    for (int e = 0; e < d; e++) {
                        dst[r * d + e] += wj * src[r * d + e];
                    }
                }
            }
        }
    }
}
