package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

/**
 * Erf/erfc (the GELU oracle) against an independent reference: the Maclaurin series of erf summed in
 * 60-digit BigDecimal, which is exact to far beyond double for |x| <= 6, and erfc from 1 - erf there.
 */
class ErfTest {
    private static final MathContext MC = new MathContext(60);

    // erf(x) = 2/√π Σ (-1)^k x^(2k+1) / (k! (2k+1)), in 60 digits.
    private static BigDecimal erfSeries(double xd) {
        BigDecimal x = new BigDecimal(xd), x2 = x.multiply(x, MC);
        BigDecimal term = x, sum = BigDecimal.ZERO; // term = (-1)^k x^(2k+1) / k!
        for (int k = 0; k < 400; k++) {
            sum = sum.add(term.divide(BigDecimal.valueOf(2L * k + 1), MC), MC);
            term = term.multiply(x2, MC).divide(BigDecimal.valueOf(-(k + 1L)), MC);
        }
        BigDecimal twoOverSqrtPi = new BigDecimal("1.12837916709551257389615890312154517168810125865799771368817144");
        return sum.multiply(twoOverSqrtPi, MC);
    }

    @Test
    void erfAndErfcMatchSeriesAcrossEveryBranch() {
        double worstErf = 0, worstErfc = 0;
        for (double x = -6; x <= 6; x += 0.0137) {
            BigDecimal ref = erfSeries(x);
            double erf = ref.doubleValue();
            double erfc = BigDecimal.ONE.subtract(ref, MC).doubleValue();
            double eErf = Math.abs(Erf.erf(x) - erf), eErfc = Math.abs(Erf.erfc(x) - erfc) / Math.abs(erfc);
            worstErf = Math.max(worstErf, eErf);
            worstErfc = Math.max(worstErfc, eErfc);
            // Cody's fits are accurate to ~1e-16 relative; 1e-14 leaves room for exp() and the division.
            assertTrue(eErf <= 1e-14, "erf(" + x + ") = " + Erf.erf(x) + ", series " + erf);
            assertTrue(eErfc <= 1e-13, "erfc(" + x + ") = " + Erf.erfc(x) + ", series " + erfc);
        }
        System.out.printf("ErfTest: worst |erf - series| %.3g, worst relative erfc error %.3g%n", worstErf, worstErfc);
    }

    @Test
    void specialValues() {
        assertEquals(0.0, Erf.erf(0.0));
        assertEquals(1.0, Erf.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, Erf.erf(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, Erf.erfc(Double.POSITIVE_INFINITY));
        assertEquals(2.0, Erf.erfc(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)) && Double.isNaN(Erf.erfc(Double.NaN)));
    }
}
