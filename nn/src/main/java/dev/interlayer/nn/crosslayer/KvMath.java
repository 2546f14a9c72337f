package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Tensor;

/** Scalar attention pieces of {@link CrossLayerStack}: RoPE, KV shift, and the causal attention with extra slots. */
final class KvMath {
    private KvMath() {
    }

    /**
     * Rotates rows i = 0..t−1 (each heads·dh wide) by position past + i: angle p·invFreq in double, cos/sin rounded to
     * float and scaled, pairs (x_j, x_{j+r/2}) or (x_{2j}, x_{2j+1}); dimensions past the rotary width stay.
     */
    static void rope(float[] a, Rope rope, int past, int t, int heads, int dh) {
        int half = rope.rotaryDim() / 2;
        boolean interleaved = rope.pairing() == Rope.Pairing.INTERLEAVED;
        float scaling = rope.attentionScaling();
        for (int i = 0; i < t; i++) {
            int p = past + i;
            for (int j = 0; j < half; j++) {
                double ang = (double) p * rope.invFreq(j);
                float cs = (float) Math.cos(ang) * scaling, sn = (float) Math.sin(ang) * scaling;
                for (int h = 0; h < heads; h++) {
                    int i0 = (i * heads + h) * dh + (interleaved ? 2 * j : j);
                    int i1 = interleaved ? i0 + 1 : i0 + half;
                    float x0 = a[i0], x1 = a[i1];
                    a[i0] = x0 * cs - x1 * sn;
                    a[i1] = x1 * cs + x0 * sn;
                }
            }
        }
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

    /**
     * o[i, h] = Σ_j p_j·V[j, g] + Σ_n p_n·PV[h, n] with p = softmax over the visible keys j ∈ [lo, past + i]
     * (causal, window) of softcap(τ·q·K_j) and over the persistent slots of softcap(τ·q·PK[h, n]) (never masked).
     * keys/values are [positions, kvDim] caches; memK/memV [H, N, dh] or null.
     */
    static void attend(AttentionConfig c, float[] q, float[] keys, float[] values, float[] memK, float[] memV,
                       int memN, int past, int t, double[] s, float[] o) {
        int hq = c.heads(), dh = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim(), gs = c.groupSize();
        int w = c.window();
        double tau = c.effectiveScale(), cap = c.softcap();
        for (int h = 0; h < hq; h++) {
            int g = h / gs;
            for (int i = 0; i < t; i++) {
                int p = past + i, lo = w > 0 ? Math.max(0, p - w + 1) : 0, n = p - lo + 1;
                int qo = i * qDim + h * dh;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n + memN; j++) {
                    double dot = 0;
                    if (j < n) {
                        int ko = (lo + j) * kvDim + g * dh;
                        for (int e = 0; e < dh; e++) {
                            dot += (double) q[qo + e] * keys[ko + e];
                        }
                    } else {
                        int ko = (h * memN + j - n) * dh;
                        for (int e = 0; e < dh; e++) {
                            dot += (double) q[qo + e] * memK[ko + e];
                        }
                    }
                    double sc = dot * tau;
                    s[j] = cap > 0 ? cap * Math.tanh(sc / cap) : sc;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n + memN; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int e = 0; e < dh; e++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) {
                        acc += s[j] * values[(lo + j) * kvDim + g * dh + e];
                    }
                    for (int m = 0; m < memN; m++) {
                        acc += s[n + m] * memV[(h * memN + m) * dh + e];
                    }
                    o[qo + e] = (float) (acc / sum);
                }
            }
        }
    }
}
