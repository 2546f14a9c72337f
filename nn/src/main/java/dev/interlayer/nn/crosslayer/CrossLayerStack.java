package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.PositionEncoding;
import dev.interlayer.nn.RopeScaling;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.plan.Embeddings;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;

/**
 * A Pre-LN decoder stack whose attention runs the mechanisms of {@link CrossLayerConfig} (value residual, KV
 * shifting, persistent memory, cross-layer KV sharing), using the blocks' own weights, norms and FFNs:
 * <pre>
 *   u = s·N_attn(x);  q = RoPE(QKnorm(u·Wqᵀ));  K̂, V̂ = mechanism(u·Wkᵀ, u·Wvᵀ) with K̂ rotated by its position
 *   o_h,i = Σ_j p_j·V̂_j + Σ_n p_n·PV_h[n],  p = softmax(τ·[q·K̂_j (causal, window) ; q·PK_h[n]])
 *   x ← α·x + o·Woᵀ (+bo);  x ← x + FFN(s·N_ffn(x)) unless the FFN is replaced by persistent memory
 * </pre>
 * The attention is the engine's {@link Attention} (its projections, QK-norm, RoPE, {@link dev.interlayer.nn.KvCache}
 * and SIMD core); the mechanisms sit around that core: value residual and KV shift as a
 * {@link dev.interlayer.nn.KvTransform} on the new keys and values before RoPE, persistent memory as extra
 * always-visible slots of the state, KV sharing as a shared-cache state that reads the group's first layer.
 *
 * <p>Supports sequential PRE blocks with RoPE (without dynamic NTK) or no positions, GQA, QK-norm, soft-cap and
 * sliding windows; positions are implicit (0, 1, …).
 *
 * @param stack  the model (its embedding, blocks and final norm)
 * @param config the mechanisms
 */
public record CrossLayerStack(DecoderStack stack, CrossLayerConfig config) {
    /** @throws IllegalArgumentException naming the layer and the unsupported feature */
    public CrossLayerStack {
        for (int l = 0; l < stack.layers(); l++) {
            TransformerBlock b = stack.blocks().get(l);
            AttentionConfig c = b.config().attention();
            if (b.config().parallel() || b.config().placement() != NormPlacement.PRE) {
                throw new IllegalArgumentException("CrossLayerStack supports sequential PRE blocks; layer " + l + " is "
                        + (b.config().parallel() ? "parallel" : b.config().placement()));
            }
            if (c.positions() == PositionEncoding.ALIBI || (c.positions() == PositionEncoding.ROPE
                    && c.rope().scaling() instanceof RopeScaling.DynamicNtk)) {
                throw new IllegalArgumentException("CrossLayerStack supports RoPE without dynamic NTK or no positions;"
                        + " layer " + l + " uses " + (c.positions() == PositionEncoding.ALIBI ? "ALiBi" : "dynamic NTK"));
            }
            if (config.kvSource(l) != l && config.kvShift().containsKey(l)) {
                throw new IllegalArgumentException("layer " + l + " reads layer " + config.kvSource(l)
                        + "'s shared KV cache and cannot also shift its own keys");
            }
            CrossLayerConfig.KvShift sh = config.kvShift().get(l);
            if (sh != null && sh.k().dim(0) != c.kvHeads()) {
                throw new IllegalArgumentException("KV shift of layer " + l + " has " + sh.k().dim(0)
                        + " heads, the layer has " + c.kvHeads() + " KV heads");
            }
            CrossLayerConfig.PersistentMemory m = config.memory().get(l);
            if (m != null && (m.keys().dim(0) != c.heads() || m.keys().dim(2) != c.headDim())) {
                throw new IllegalArgumentException("persistent memory of layer " + l + " is " + m.keys().shape()
                        + ", the layer needs [" + c.heads() + ", N, " + c.headDim() + "]");
            }
            if (config.kvSource(l) != l && stack.blocks().get(config.kvSource(l)).config().attention().kvDim()
                    != c.kvDim()) {
                throw new IllegalArgumentException("layer " + l + " shares layer " + config.kvSource(l)
                        + "'s KV cache but their KV widths differ");
            }
            if (config.valueResidual() != null && config.valueResidual().length != 2
                    && config.valueResidual().length != 2 * stack.layers()) {
                throw new IllegalArgumentException("per-layer value residual needs " + 2 * stack.layers()
                        + " λ values (a pair per layer), got " + config.valueResidual().length);
            }
            if (config.valueResidual() != null && c.kvDim() != stack.blocks().get(0).config().attention().kvDim()) {
                throw new IllegalArgumentException("value residual needs equal Hkv·dh in every layer; layer " + l
                        + " differs from layer 0");
            }
        }
    }

    /** A session holding contextLength positions with calls of at most maxTokens tokens. */
    public CrossLayerSession newSession(int contextLength, int maxTokens) {
        if (contextLength < 1 || contextLength > stack.contextLength()) {
            throw new IllegalArgumentException("contextLength " + contextLength + " must be in [1, "
                    + stack.contextLength() + "]");
        }
        return new CrossLayerSession(stack, config, contextLength, maxTokens);
    }

    /**
     * KV-cache memory of this configuration against the plain model, for a session of contextLength positions.
     *
     * @param cacheFloats floats the caches hold with this configuration
     * @param plainFloats floats the plain model's caches would hold
     */
    public record CacheReport(long cacheFloats, long plainFloats) {
        /** Fraction of cache memory saved (0 = none). */
        public double savedFraction() {
            return 1.0 - (double) cacheFloats / plainFloats;
        }
    }

    /** The cache memory this configuration needs against the plain model (cross-layer KV sharing saves it). */
    public CacheReport cacheReport(int contextLength) {
        long plain = 0, own = 0;
        for (int l = 0; l < stack.layers(); l++) {
            long n = 2L * contextLength * stack.blocks().get(l).config().attention().kvDim();
            plain += n;
            own += config.kvSource(l) == l ? n : 0;
        }
        return new CacheReport(own, plain);
    }

    /** Decodes one token (no allocation). Returns N_f(x) [1, d]. */
    public Tensor decode(int token, CrossLayerSession s) {
        s.oneToken[0] = token;
        return forward(s.oneToken, s);
    }

    /**
     * Runs a chunk at the next positions; returns N_f(x) [T, d] (a view into the session).
     *
     * @throws IllegalArgumentException for a chunk outside [1, maxTokens] or a token outside the vocabulary
     * @throws IllegalStateException    if the chunk passes the context length
     */
    public Tensor forward(int[] tokens, CrossLayerSession s) {
        int t = tokens.length, past = s.position();
        if (t < 1 || t > s.maxTokens) {
            throw new IllegalArgumentException("chunk of " + t + " tokens: must be in [1, maxTokens=" + s.maxTokens
                    + "]");
        }
        if (past + t > s.contextLength) {
            throw new IllegalStateException("positions [" + past + ", " + (past + t) + ") are past the context length "
                    + s.contextLength);
        }
        Tensor x = Embeddings.x0(stack, tokens, past, null, s.x.rows(t));
        if (s.hook != null) {
            s.hook.after(-1, x, null);
        }
        for (int l = 0; l < stack.layers(); l++) {
            TransformerBlock b = stack.blocks().get(l);
            attention(l, b, x, s);
            if (!(config.replaceFfn() && config.memory().containsKey(l))) {
                s.sublayers.ffn(b, x, s.ffn[l]);
            }
            if (s.hook != null) {
                s.hook.after(l, x, null);
            }
        }
        s.cache.advance(t);
        return stack.finalNorm(x, s.out.rows(t));
    }

    // x ← α·x + Attn(s·N(x)) with the layer's mechanisms (installed on its attention state by the session)
    private static void attention(int l, TransformerBlock b, Tensor x, CrossLayerSession s) {
        int t = x.dim(0);
        Tensor u = s.u.rows(t), a = s.a.rows(t);
        b.attnIn().apply(x, u);
        if (b.config().normScale() != 1f) {
            Ops.scale(u, b.config().normScale(), u);
        }
        b.attention().forward(u, a, s.attn[l]);
        if (b.config().residualAlpha() != 1f) {
            Ops.scale(x, b.config().residualAlpha(), x);
        }
        Ops.add(x, a, x);
    }
}
