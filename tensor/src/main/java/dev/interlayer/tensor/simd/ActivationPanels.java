package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;

import jdk.incubator.vector.FloatVector;

/**
 * Packing of activation rows into token panels for the weight-stream kernels, where the weights are the broadcast
 * operand and a panel of {@code width} tokens is the vector operand: per k step the panel's tokens lie next to each
 * other. One routine for the F32/BF16/F16 weight stream ({@link GemmWeightStream}, {@link GemmDirectKernel}) and the
 * quantized prefill ({@code QuantPrefill}), which use the same panel layout.
 */
public final class ActivationPanels {
    private ActivationPanels() {
    }

    /**
     * xp[base + p·width + t] = A[t, p] (row t at a0 + t·lda) for t &lt; rows, p &lt; kc; zero for rows ≤ t &lt; width.
     *
     * @param xp    the packed panel, written at [base, base + kc·width)
     * @param width tokens per panel (the micro-kernel's vector count × lanes)
     * @param rows  rows of A present (≤ width); the rest of the panel is zero padding
     */
    public static void pack(float[] xp, int base, int width, int kc, float[] a, int a0, int lda, int rows) {
        int whole = Math.min(rows, width) / VL * VL;
        if (whole > 0) {
            // VL whole rows at a time: one gather per k step and one vector store, instead of VL scalar stores a
            // panel row apart
            int[] idx = new int[VL];
            for (int i = 0; i < VL; i++) {
                idx[i] = i * lda;
            }
            for (int t0 = 0; t0 < whole; t0 += VL) {
                for (int p = 0, src = a0 + t0 * lda, dst = base + t0; p < kc; p++, dst += width) {
                    FloatVector.fromArray(F, a, src + p, idx, 0).intoArray(xp, dst);
                }
            }
        }
        for (int t = whole; t < width; t++) {
            int dst = base + t;
            if (t < rows) {
                for (int p = 0, src = a0 + t * lda; p < kc; p++, dst += width) {
                    xp[dst] = a[src + p];
                }
            } else {
                for (int p = 0; p < kc; p++, dst += width) {
                    xp[dst] = 0f;
                }
            }
        }
    }
}
