package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;

/**
 * Hyperparameters of one transformer block: the canonical Pre-LN block h = x + Attn(N₁(x)), x' = h + FFN(N₂(h))
 * and its variants (norm placement, parallel form, DeepNorm skip weight, LayerNorm Scaling).
 *
 * @param attention     attention hyperparameters (hidden width comes from here)
 * @param placement     norm placement of both sublayers
 * @param parallel      GPT-J/NeoX parallel form x' = α·x + Attn(s·N₁(x)) + FFN(s·N₂(x)) (PRE only)
 * @param residualAlpha DeepNorm skip weight α (1 = plain residual)
 * @param normScale     LayerNorm-Scaling factor s on input-norm outputs (1 = off; see {@link #layerNormScaling})
 */
public record BlockConfig(AttentionConfig attention, NormPlacement placement, boolean parallel, float residualAlpha,
                          float normScale) {
    /**
     * Validates the block options.
     *
     * @throws IllegalArgumentException if attention or placement is null, parallel is used with a placement other than PRE,
     *                                  residualAlpha or normScale is not finite and positive, or normScale is set
     *                                  without an input norm
     */
    public BlockConfig {
        if (attention == null || placement == null) {
            throw new IllegalArgumentException("BlockConfig: attention and placement must not be null");
        }
        if (parallel && placement != NormPlacement.PRE) {
            throw new IllegalArgumentException("parallel attention+FFN is defined for placement PRE, got " + placement);
        }
        if (!(residualAlpha > 0) || Float.isInfinite(residualAlpha)) {
            throw new IllegalArgumentException("residualAlpha must be finite and > 0, got " + residualAlpha);
        }
        if (!(normScale > 0) || Float.isInfinite(normScale)) {
            throw new IllegalArgumentException("normScale must be finite and > 0, got " + normScale);
        }
        if (normScale != 1f && !placement.hasInputNorm()) {
            throw new IllegalArgumentException("normScale " + normScale + " scales input norms, but placement "
                    + placement + " has none");
        }
    }

    /** A sequential block with plain residuals and no LayerNorm Scaling. */
    public static BlockConfig of(AttentionConfig attention, NormPlacement placement) {
        return new BlockConfig(attention, placement, false, 1f, 1f);
    }

    /** Model width d. */
    public int hidden() {
        return attention.hidden();
    }

    /** u = s·N(x): input norm {@code n} of x into u, scaled by {@link #normScale} s; returns u. */
    public Tensor normalizeInput(Norm n, Tensor x, Tensor u) {
        n.apply(x, u);
        if (normScale != 1f) {
            Ops.scale(u, normScale, u);
        }
        return u;
    }

    /**
     * LayerNorm Scaling (Sun et al. 2025, "The Curse of Depth in Large Language Models"): s = 1/sqrt(layer + 1)
     * for a 0-based layer index, multiplying both input-norm outputs of the layer.
     */
    public static float layerNormScaling(int layer) {
        if (layer < 0) {
            throw new IllegalArgumentException("layer index must be >= 0, got " + layer);
        }
        return (float) (1.0 / Math.sqrt(layer + 1.0));
    }

    /**
     * DeepNorm α (Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers") for an encoder-only or
     * decoder-only stack of N layers: (2N)^(1/4), the skip weight in x' = LN(α·x + F(x)).
     */
    public static float deepNormAlpha(int layers) {
        if (layers < 1) {
            throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        }
        return (float) Math.pow(2.0 * layers, 0.25);
    }
}
