package dev.interlayer.nn;

/**
 * Hyperparameters of one self-attention layer: grouped-query heads (Ainslie et al. 2023, "GQA: Training
 * Generalized Multi-Query Transformer Models from Multi-Head Checkpoints"; query head h reads KV head
 * floor(h / (Hq/Hkv))), RoPE or ALiBi, QK-norm, soft-capping s = c·tanh(s/c) and a sliding window. Validated on construction;
 * messages name the offending field. Build with {@link #builder(int, int, int)}.
 *
 * @param hidden        model width d
 * @param heads         query heads Hq
 * @param kvHeads       key/value heads Hkv (divides Hq; Hq = MHA, 1 = MQA)
 * @param headDim       dh (may differ from d/Hq)
 * @param contextLength largest number of positions a session may hold
 * @param causal        causal (decoder) or bidirectional (encoder) mask
 * @param window        sliding window W (key j visible iff pos(i) − W &lt; pos(j) ≤ pos(i)); 0 = none
 * @param positions     NONE, ROPE or ALIBI
 * @param rope          RoPE settings when positions = ROPE, else null
 * @param alibiMaxBias  ALiBi maximum bias (8 in BLOOM) when positions = ALIBI
 * @param qkNorm        QK-norm layout
 * @param softcap       attention-logit soft-cap c (s = c·tanh(s/c)); 0 = none
 * @param scale         score scale τ; 0 means dh^(−1/2) (Gemma: query_pre_attn_scalar^(−1/2))
 */
public record AttentionConfig(int hidden, int heads, int kvHeads, int headDim, int contextLength, boolean causal,
                              int window, PositionEncoding positions, RopeConfig rope, float alibiMaxBias,
                              QkNorm qkNorm, float softcap, float scale) {
    /**
     * Validates the hyperparameters.
     *
     * @throws IllegalArgumentException if a size is below 1, kvHeads does not divide heads, window is negative or above
     *                                  contextLength, the RoPE/ALiBi settings do not fit {@code positions} (odd rotary
     *                                  width included), or softcap or scale is negative or not finite
     */
    public AttentionConfig {
        positive("hidden", hidden);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("headDim", headDim);
        positive("contextLength", contextLength);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("kvHeads " + kvHeads + " does not divide heads " + heads);
        }
        if (window < 0) {
            throw new IllegalArgumentException("window must be >= 0 (0 = no sliding window), got " + window);
        }
        if (window > contextLength) {
            throw new IllegalArgumentException("window " + window + " is larger than contextLength " + contextLength);
        }
        if (positions == null || qkNorm == null) {
            throw new IllegalArgumentException("positions and qkNorm must not be null");
        }
        if (positions == PositionEncoding.ROPE) {
            if (rope == null) {
                throw new IllegalArgumentException("positions = ROPE needs a rope config");
            }
            int r = rope.rotaryDim(headDim);
            if (r < 2 || r % 2 != 0) {
                throw new IllegalArgumentException("rotary width headDim·partialFactor = " + headDim + "·"
                        + rope.partialFactor() + " = " + r + " must be even and >= 2");
            }
        } else if (rope != null) {
            throw new IllegalArgumentException("rope config given but positions = " + positions);
        }
        if (positions == PositionEncoding.ALIBI && !(alibiMaxBias > 0)) {
            throw new IllegalArgumentException("alibiMaxBias must be > 0 for ALiBi, got " + alibiMaxBias);
        }
        finiteNonNegative("softcap", softcap, "off");
        finiteNonNegative("scale", scale, "1/sqrt(headDim)");
    }

    private static void finiteNonNegative(String field, float v, String zeroMeans) {
        if (!(v >= 0) || Float.isInfinite(v)) {
            throw new IllegalArgumentException(field + " must be finite and >= 0 (0 = " + zeroMeans + "), got " + v);
        }
    }

    private static void positive(String field, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(field + " must be >= 1, got " + v);
        }
    }

    /** Query width Hq·dh. */
    public int qDim() {
        return heads * headDim;
    }

    /** Key/value width Hkv·dh (one cache row). */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Query heads per KV head, G = Hq / Hkv. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** The effective score scale τ. */
    public float effectiveScale() {
        return scale > 0 ? scale : (float) (1.0 / Math.sqrt(headDim));
    }

    /** A builder with defaults: MHA, headDim = hidden/heads, causal, no window, no positions, no QK-norm. */
    public static Builder builder(int hidden, int heads, int contextLength) {
        return new Builder(hidden, heads, contextLength);
    }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        Builder b = new Builder(hidden, heads, contextLength);
        b.kvHeads = kvHeads;
        b.headDim = headDim;
        b.causal = causal;
        b.window = window;
        b.positions = positions;
        b.rope = rope;
        b.alibiMaxBias = alibiMaxBias;
        b.qkNorm = qkNorm;
        b.softcap = softcap;
        b.scale = scale;
        return b;
    }

    /** Mutable builder for {@link AttentionConfig}. */
    public static final class Builder {
        private final int hidden, heads, contextLength;
        private int kvHeads, headDim;
        private boolean causal = true;
        private int window;
        private PositionEncoding positions = PositionEncoding.NONE;
        private RopeConfig rope;
        private float alibiMaxBias;
        private QkNorm qkNorm = QkNorm.NONE;
        private float softcap, scale;

        private Builder(int hidden, int heads, int contextLength) {
            this.hidden = hidden;
            this.heads = heads;
            this.contextLength = contextLength;
            this.kvHeads = heads;
        }

        /** Number of KV heads (GQA/MQA). */
        public Builder kvHeads(int v) {
            kvHeads = v;
            return this;
        }

        /** Explicit head width (otherwise hidden/heads, which must divide). */
        public Builder headDim(int v) {
            headDim = v;
            return this;
        }

        /** Causal (true) or bidirectional (false) mask. */
        public Builder causal(boolean v) {
            causal = v;
            return this;
        }

        /** Sliding window size, 0 = none. */
        public Builder window(int v) {
            window = v;
            return this;
        }

        /** Rotary positions. */
        public Builder rope(RopeConfig v) {
            positions = PositionEncoding.ROPE;
            rope = v;
            return this;
        }

        /** ALiBi with the given maximum bias (8 for BLOOM). */
        public Builder alibi(float maxBias) {
            positions = PositionEncoding.ALIBI;
            rope = null;
            alibiMaxBias = maxBias;
            return this;
        }

        /** QK-norm layout. */
        public Builder qkNorm(QkNorm v) {
            qkNorm = v;
            return this;
        }

        /** Attention-logit soft-cap, 0 = none. */
        public Builder softcap(float v) {
            softcap = v;
            return this;
        }

        /** Score scale τ, 0 = 1/sqrt(headDim). */
        public Builder scale(float v) {
            scale = v;
            return this;
        }

        /** Gemma's τ = query_pre_attn_scalar^(−1/2). */
        public Builder queryPreAttnScalar(float v) {
            if (!(v > 0) || Float.isInfinite(v)) { // +inf would give scale 0, which means the default 1/sqrt(dh)
                throw new IllegalArgumentException("query_pre_attn_scalar must be finite and > 0, got " + v);
            }
            scale = (float) (1.0 / Math.sqrt(v));
            return this;
        }

        /** Validates and builds. */
        public AttentionConfig build() {
            int hd = headDim;
            if (hd == 0) {
                if (heads < 1 || hidden % heads != 0) {
                    throw new IllegalArgumentException("heads " + heads + " does not divide hidden " + hidden
                            + "; set headDim explicitly");
                }
                hd = hidden / heads;
            }
            return new AttentionConfig(hidden, heads, kvHeads, hd, contextLength, causal, window, positions, rope,
                    alibiMaxBias, qkNorm, softcap, scale);
        }
    }
}
