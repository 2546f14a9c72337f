package dev.interlayer.nn.crosslayer;

import dev.interlayer.tensor.Tensor;

/** The KV shift of {@link CrossLayerStack} (run on the new keys and values before the shared attention's RoPE). */
final class KvMath {
    private KvMath() {
    }

    /**
     * KV shift of the call's rows: out_i = c_cur[g]·raw_p + c_prev[g]·raw_{p−1} per KV head g, p = past + i,
     * raw_{−1} = 0. {@code raw} holds the raw rows of every position up to past + t − 1.
     */
    static void shift(float[] out, float[] raw, Tensor coef, int past, int t, int heads, int dh) {
        int kvDim = heads * dh;
        for (int i = 0; i < t; i++) {
            int p = past + i;
            for (int g = 0; g < heads; g++) {
                float prev = coef.getFloat(g, 0), cur = coef.getFloat(g, 1);
                for (int e = g * dh; e < (g + 1) * dh; e++) {
                    float before = p == 0 ? 0f : raw[(p - 1) * kvDim + e];
                    out[i * kvDim + e] = cur * raw[p * kvDim + e] + prev * before;
                }
            }
        }
    }
}
