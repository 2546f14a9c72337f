package dev.interlayer.nn;

/**
 * A change to an attention layer's new keys and values before they are rotated and cached, for mechanisms that
 * mix what attention caches: value residual learning ("Value Residual Learning", Zhou et al.: v ← λ1·v_0 + λ2·v)
 * and KV shifting ("KV Shifting Attention Enhances Language Modeling", Xu et al.:
 * k̂_t = c_cur·k_t + c_prev·k_{t−1}).
 * Installed with {@link Attention.State#setKvTransform}.
 */
@FunctionalInterface
public interface KvTransform {
    /**
     * Called once per forward call with the chunk's key and value rows, k [t, Hkv·dh] and v [t, Hkv·dh] from
     * offset 0, after the projections, their biases and QK-norm and before RoPE and the cache write; they become
     * cache entries [past, past + t). May modify k and v in place; must not allocate per call (decode).
     */
    void apply(float[] k, float[] v, int past, int t);
}
