package dev.interlayer.quant;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API dot product for {@link DoubleMath}; loaded only when the incubator module is present. */
final class DoubleSimd {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    private DoubleSimd() {
    }

    static double dot(double[] a, int ao, double[] b, int bo, int n) {
        int l = S.length(), k = 0;
        DoubleVector s0 = DoubleVector.zero(S), s1 = DoubleVector.zero(S);
        for (; k + 2 * l <= n; k += 2 * l) {
            s0 = DoubleVector.fromArray(S, a, ao + k).fma(DoubleVector.fromArray(S, b, bo + k), s0);
            s1 = DoubleVector.fromArray(S, a, ao + k + l).fma(DoubleVector.fromArray(S, b, bo + k + l), s1);
        }
        double s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; k < n; k++) {
            s += a[ao + k] * b[bo + k];
        }
        return s;
    }
}
