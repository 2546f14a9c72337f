package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.Unary;

/**
 * Array-level vector loops for one species width. Every method works on {@code n} elements starting
 * at the given offsets; outputs may alias inputs at the same offset. Vector body, scalar tail.
 */
interface VecOps {
    /** Vector width in bits. */
    int bits();

    /** out[i] = op(a[i], b[i]). */
    void binary(Binary op, float[] a, int ao, float[] b, int bo, float[] out, int oo, int n);

    /** out[i] = a[i] * s. */
    void scale(float[] a, int ao, float s, float[] out, int oo, int n);

    /** out[i] = a[i] + s. */
    void addScalar(float[] a, int ao, float s, float[] out, int oo, int n);

    /** y[i] += alpha * x[i] (fused multiply-add). */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /** out[i] = f(x[i]). */
    void unary(Unary f, float[] x, int xo, float[] out, int oo, int n);

    /** Σ a[i]·b[i] in float with several vector accumulators. */
    float dot(float[] a, int ao, float[] b, int bo, int n);

    /** out[oo+j] = scale·Σ_i q[qo+i]·k[ko + j·ks + i], j in [0, rows), i in [0, d). */
    void dotRows(float[] q, int qo, float[] k, int ko, int ks, int rows, int d, float scale, float[] out, int oo);

    /** out[oo+i] += Σ_j p[po+j]·v[vo + j·vs + i], i in [0, d), j in [0, rows) in order. */
    void addWeightedRows(float[] p, int po, float[] v, int vo, int vs, int rows, int d, float[] out, int oo);

    /** Σ x[i]. */
    float sum(float[] x, int xo, int n);

    /** Σ x[i]². */
    float sumSq(float[] x, int xo, int n);

    /** Σ (x[i] - mean)². */
    float sumSqDev(float[] x, int xo, float mean, int n);

    /** max x[i]; NaN if any element is NaN; -Inf when n = 0. */
    float max(float[] x, int xo, int n);

    /** First i with x[i] == v (NaN matches NaN), or -1. */
    int indexOf(float[] x, int xo, float v, int n);

    /** out[i] = exp(x[i] - shift); returns Σ out[i]. */
    float expShiftSum(float[] x, int xo, float shift, float[] out, int oo, int n);

    /** out[i] = x[i] * s * w[i], or x[i] * s when w is null. */
    void mulScaled(float[] x, int xo, float s, float[] w, int wo, float[] out, int oo, int n);

    /** out[i] = (x[i] - mean) * inv * w[i] + b[i]; null w means 1, null b means 0. */
    void normAffine(float[] x, int xo, float mean, float inv, float[] w, int wo, float[] b, int bo,
                    float[] out, int oo, int n);

    /** out[i] = x[i]·cos[i] - x[i+half]·sin[i]; out[i+half] = x[i+half]·cos[i] + x[i]·sin[i]. */
    void rotateHalf(float[] x, int xo, float[] cos, float[] sin, float[] out, int oo, int half);

    /**
     * Interleaved pairs, n even: out[j] = x[j]·cos2[j] + x[j^1]·sin2[j], where the caller stores
     * cos2[2i] = cos2[2i+1] = cosᵢ, sin2[2i] = -sinᵢ, sin2[2i+1] = +sinᵢ.
     */
    void rotatePairs(float[] x, int xo, float[] cos2, float[] sin2, float[] out, int oo, int n);
}
