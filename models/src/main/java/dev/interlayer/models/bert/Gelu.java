package dev.interlayer.models.bert;

import dev.interlayer.tensor.Tensor;

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), applied in place to an F32 heap tensor.
 *
 * <p>Why not {@code Ops.unary(Unary.GELU_ERF)}: {@code tensor}'s {@code Erf.erf} (at commit
 * 12d95c2) evaluates Cody's erfc polynomial for 0.5 ≤ |x| &lt; 4 with its coefficients in reverse
 * order (erf(0.5) gives 0.760 instead of 0.5205), which moved MiniLM's hidden states by ~0.4.
 * Until that is fixed upstream this class carries a checked copy of Cody's algorithm
 * (W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 1969;
 * |relative error| &lt; 1e-15).
 */
final class Gelu {
    private static final double INV_SQRT2 = 0.7071067811865476;

    private Gelu() {
    }

    /** x ← 0.5·x·(1 + erf(x/√2)) element-wise. Shapes: any contiguous F32 heap tensor. */
    static void applyInPlace(Tensor x) {
        float[] a = x.heapFloats();
        if (a == null || !x.isContiguous()) {
            throw new IllegalArgumentException("gelu: needs a contiguous F32 heap tensor, got " + x);
        }
        int off = (int) x.offset(), n = (int) x.size();
        for (int i = off; i < off + n; i++) {
            double v = a[i];
            a[i] = (float) (0.5 * v * (1.0 + erf(v * INV_SQRT2)));
        }
    }

    /** erf(x) in double precision. */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax < 0.5) {
            double t = x * x;
            double num = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) * t
                    + 377.485237685302021) * t + 3209.37758913846947;
            double den = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t
                    + 2844.23683343917062;
            return x * num / den;
        }
        double erfc;
        if (ax < 4.0) {
            // Cody's c[8] is the highest-order coefficient: num = (((c8·y + c0)·y + c1)·y + ...)·y + c7.
            double num = (((((((2.15311535474403846e-8 * ax + 5.64188496988670089e-1) * ax + 8.88314979438837594) * ax
                    + 6.61191906371416295e1) * ax + 2.98635138197400131e2) * ax + 8.81952221241769090e2) * ax
                    + 1.71204761263407058e3) * ax + 2.05107837782607147e3) * ax + 1.23033935479799725e3;
            double den = (((((((ax + 1.57449261107098347e1) * ax + 1.17693950891312499e2) * ax
                    + 5.37181101862009858e2) * ax + 1.62138957456669019e3) * ax + 3.29079923573345963e3) * ax
                    + 4.36261909014324716e3) * ax + 3.43936767414372164e3) * ax + 1.23033935480374942e3;
            erfc = Math.exp(-ax * ax) * num / den;
        } else {
            double z = 1.0 / (ax * ax);
            double num = ((((1.63153871373020978e-2 * z + 3.05326634961232344e-1) * z + 3.60344899949804439e-1) * z
                    + 1.25781726111229246e-1) * z + 1.60837851487422766e-2) * z + 6.58749161529837803e-4;
            double den = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 5.27905102951428412e-1) * z
                    + 6.05183413124413191e-2) * z + 2.33520497626869185e-3;
            erfc = Math.exp(-ax * ax) * (0.564189583547756287 - z * num / den) / ax;
        }
        return x < 0 ? erfc - 1.0 : 1.0 - erfc;
    }
}
