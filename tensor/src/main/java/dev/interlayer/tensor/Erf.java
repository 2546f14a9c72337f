package dev.interlayer.tensor;

/** The error function and its complement in double precision (W. J. Cody's rational approximations, |rel err| {@literal <} 1e-15). */
public final class Erf {
    private Erf() {
    }

    /** erf(x). */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax < 0.5) {
            return erfSmall(x);
        }
        double erfc = erfcAtLeastHalf(ax);
        return x < 0 ? erfc - 1.0 : 1.0 - erfc;
    }

    /** erfc(x) = 1 - erf(x), without cancellation for large x (the left tail of Φ needs it). */
    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax < 0.5) {
            return 1.0 - erfSmall(x);
        }
        double e = erfcAtLeastHalf(ax);
        return x < 0 ? 2.0 - e : e;
    }

    // |x| < 0.5: x·P(x²)/Q(x²).
    private static double erfSmall(double x) {
        double t = x * x;
        double num = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) * t
                + 377.485237685302021) * t + 3209.37758913846947;
        double den = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t
                + 2844.23683343917062;
        return x * num / den;
    }

    // erfc(ax) for ax >= 0.5. Cody's coefficient order: in [0.5, 4) the numerator's leading (y^8)
    // coefficient is 2.15e-8 and its constant term 1.23e3 (an earlier version had them reversed).
    private static double erfcAtLeastHalf(double ax) {
        if (ax < 4.0) {
            double num = ((((((((2.15311535474403846e-8 * ax + 5.64188496988670089e-1) * ax + 8.88314979438837594) * ax
                    + 6.61191906371416295e1) * ax + 2.98635138197400131e2) * ax + 8.81952221241769090e2) * ax
                    + 1.71204761263407058e3) * ax + 2.05107837782607147e3) * ax + 1.23033935479799725e3);
            double den = (((((((ax + 1.57449261107098347e1) * ax + 1.17693950891312499e2) * ax
                    + 5.37181101862009858e2) * ax + 1.62138957456669019e3) * ax + 3.29079923573345963e3) * ax
                    + 4.36261909014324716e3) * ax + 3.43936767414372164e3) * ax + 1.23033935480374942e3;
            return Math.exp(-ax * ax) * num / den;
        }
        double z = 1.0 / (ax * ax);
        double num = ((((1.63153871373020978e-2 * z + 3.05326634961232344e-1) * z + 3.60344899949804439e-1) * z
                + 1.25781726111229246e-1) * z + 1.60837851487422766e-2) * z + 6.58749161529837803e-4;
        double den = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 5.27905102951428412e-1) * z
                + 6.05183413124413191e-2) * z + 2.33520497626869185e-3;
        double r = (1.0 / ax) * (0.564189583547756287 - z * num / den);
        return Math.exp(-ax * ax) * r;
    }
}
