package dev.interlayer.nn.moe;

import java.util.Set;

/** Which layers of a model are MoE (the rest are dense), per family, from its config fields. */
public final class MoeLayers {
    private MoeLayers() {
    }

    /**
     * Qwen2-MoE / Qwen3-MoE: layer ℓ is MoE iff ℓ ∉ mlp_only_layers, num_experts &gt; 0 and
     * (ℓ + 1) mod decoder_sparse_step = 0.
     */
    public static boolean qwen(int layer, int numExperts, int decoderSparseStep, Set<Integer> mlpOnlyLayers) {
        if (decoderSparseStep < 1) {
            throw new IllegalArgumentException("decoder_sparse_step must be >= 1, got " + decoderSparseStep);
        }
        return !mlpOnlyLayers.contains(layer) && numExperts > 0 && (layer + 1) % decoderSparseStep == 0;
    }

    /** DeepSeek: layer ℓ is MoE iff ℓ ≥ first_k_dense_replace and ℓ mod moe_layer_freq = 0. */
    public static boolean deepSeek(int layer, int firstKDenseReplace, int moeLayerFreq) {
        if (moeLayerFreq < 1) {
            throw new IllegalArgumentException("moe_layer_freq must be >= 1, got " + moeLayerFreq);
        }
        return layer >= firstKDenseReplace && layer % moeLayerFreq == 0;
    }
}
