package dev.interlayer.nn.crosslayer;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Map;

/**
 * Attention-level cross-layer mechanisms of a {@link CrossLayerStack} (all off by default):
 *
 * <ul>
 * <li>Value residual ("Value Residual Learning", Zhou et al.; ResFormer/SVFormer): for layers ℓ ≥ 1 the values
 *     are U_ℓ = λ1·V_0 + λ2·V_ℓ, with V_0 = u_0·W_v,0ᵀ the raw value projection of layer 0 for the same tokens;
 *     SVFormer is λ = (1, 0) (layer ℓ's value projection is not used).</li>
 * <li>KV shifting ("KV Shifting Attention Enhances Language Modeling", Xu et al.): per KV head g,
 *     K̂_t = c_cur·K_t + c_prev·K_{t−1} (K_{−1} = 0) on the raw pre-RoPE keys, same for V; RoPE then rotates K̂_t by
 *     position t. Coefficient tensors are [Hkv, 2] with columns (prev, current).</li>
 * <li>Persistent memory ("Augmenting Self-attention with Persistent Memory", Sukhbaatar et al.): per query head h,
 *     N learned keys PK_h and values PV_h join the context in one softmax, with no position term and no mask;
 *     optionally the layer's FFN is removed (all-attention layer).</li>
 * <li>Cross-layer KV sharing ("Reducing Transformer Key-Value Cache Size with Cross-Layer Attention", Brandon et
 *     al.): groups of {@code shareGroup} adjacent layers; the first layer of a group computes and caches K, V, the
 *     others attend with their own queries to that cache (their key/value projections are unused).</li>
 * </ul>
 *
 * @param valueResidual (λ1, λ2) for every layer, or per-layer pairs (λ1_ℓ, λ2_ℓ) for ℓ = 0..L−1 (learnable λ;
 *                      entry 0 unused), or null for none
 * @param kvShift       per layer: shift coefficients, absent = no shift
 * @param memory        per layer: persistent memory, absent = none
 * @param replaceFfn    true to drop the FFN of every layer that has persistent memory
 * @param shareGroup    KV sharing group size (1 = every layer has its own cache)
 */
public record CrossLayerConfig(float[] valueResidual, Map<Integer, KvShift> kvShift,
                               Map<Integer, PersistentMemory> memory, boolean replaceFfn, int shareGroup) {
    /** @throws IllegalArgumentException if λ is not a pair or the share group is below 1 */
    public CrossLayerConfig {
        if (valueResidual != null && (valueResidual.length < 2 || valueResidual.length % 2 != 0)) {
            throw new IllegalArgumentException("value residual λ must be a pair (λ1, λ2) or one pair per layer, got "
                    + valueResidual.length + " values");
        }
        if (shareGroup < 1) {
            throw new IllegalArgumentException("KV share group must be >= 1, got " + shareGroup);
        }
        kvShift = kvShift == null ? Map.of() : Map.copyOf(kvShift);
        memory = memory == null ? Map.of() : Map.copyOf(memory);
        valueResidual = valueResidual == null ? null : valueResidual.clone();
    }

    /** No mechanism: the plain model. */
    public static CrossLayerConfig none() {
        return new CrossLayerConfig(null, null, null, false, 1);
    }

    /** ResFormer with (λ1, λ2); SVFormer is (1, 0). */
    public static CrossLayerConfig valueResidual(float lambda1, float lambda2) {
        return new CrossLayerConfig(new float[] {lambda1, lambda2}, null, null, false, 1);
    }

    /** KV shifting on the given layers. */
    public static CrossLayerConfig kvShift(Map<Integer, KvShift> shifts) {
        return new CrossLayerConfig(null, shifts, null, false, 1);
    }

    /** Persistent memory on the given layers. */
    public static CrossLayerConfig memory(Map<Integer, PersistentMemory> memory, boolean replaceFfn) {
        return new CrossLayerConfig(null, null, memory, replaceFfn, 1);
    }

    /** Cross-layer KV sharing in groups of {@code group} adjacent layers. */
    public static CrossLayerConfig shareKv(int group) {
        return new CrossLayerConfig(null, null, null, false, group);
    }

    /** λ1 (weight of V_0) of layer ℓ; the value residual must be on. */
    public float lambda1(int layer) {
        return valueResidual.length == 2 ? valueResidual[0] : valueResidual[2 * layer];
    }

    /** λ2 (weight of the layer's own V) of layer ℓ; the value residual must be on. */
    public float lambda2(int layer) {
        return valueResidual.length == 2 ? valueResidual[1] : valueResidual[2 * layer + 1];
    }

    /** The layer whose cache layer ℓ attends to (ℓ itself unless it shares a group's cache). */
    public int kvSource(int layer) {
        return layer - layer % shareGroup;
    }

    /**
     * KV-shift coefficients of one layer, columns (prev, current) per KV head.
     *
     * @param k [Hkv, 2] key coefficients
     * @param v [Hkv, 2] value coefficients
     */
    public record KvShift(Tensor k, Tensor v) {
        /** @throws ShapeMismatchException unless k and v are [Hkv, 2] of the same shape */
        public KvShift {
            if (k.rank() != 2 || k.dim(1) != 2 || !k.shape().equals(v.shape())) {
                throw ShapeMismatchException.of("KvShift", "k and v must both be [Hkv, 2]", k.shape(), v.shape());
            }
        }

        /** Vanilla attention: (prev, current) = (0, 1) for every head. */
        public static KvShift identity(int kvHeads) {
            float[] c = new float[kvHeads * 2];
            for (int g = 0; g < kvHeads; g++) {
                c[2 * g + 1] = 1f;
            }
            return new KvShift(Tensor.wrap(c.clone(), Shape.of(kvHeads, 2)), Tensor.wrap(c, Shape.of(kvHeads, 2)));
        }
    }

    /**
     * Persistent key/value vectors of one layer (used as given: a loader of the reference checkpoints multiplies
     * the stored keys by sqrt(dh) and values by sqrt(N) first).
     *
     * @param keys   [H, N, dh]
     * @param values [H, N, dh]
     */
    public record PersistentMemory(Tensor keys, Tensor values) {
        /** @throws ShapeMismatchException unless keys and values are [H, N, dh] of the same shape */
        public PersistentMemory {
            if (keys.rank() != 3 || !keys.shape().equals(values.shape())) {
                throw ShapeMismatchException.of("PersistentMemory", "keys and values must both be [H, N, dh]",
                        keys.shape(), values.shape());
            }
        }

        /** Number of slots N per head. */
        public int size() {
            return keys.dim(1);
        }
    }
}
