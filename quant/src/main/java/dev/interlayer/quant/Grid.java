package dev.interlayer.quant;

/**
 * Fits and applies one {@link QuantScheme} grid to a slice of weights, in double precision. A fitted grid is
 * a pair {@code (scale, zero)} written into a caller's {@code double[2]}; codes are
 * {@code clamp(rne(w/scale) + zero, qmin, maxq)} and values {@code scale · (q − zero)} (see {@link GridKind}
 * for how each kind picks {@code scale} and {@code zero}). The scale is rounded to its storage format
 * before the zero point is derived from it. For {@link GridKind#ASYM_OFFSET} the pair is {@code (scale, m)},
 * both rounded to the storage format, with codes {@code clamp(rne((w − m)/scale), 0, maxq)} and values
 * {@code scale·q + m} computed in float32 as GGML's Q4_1/Q5_1 decoders do; the methods taking a
 * {@link GridKind} dispatch on it, the others are the zero-point forms.
 */
public final class Grid {
    private Grid() {
    }

    /** The code of {@code w}: {@code clamp(rne(w/scale) + zero, qmin, maxq)}. */
    public static int code(double w, double scale, double zero, int qmin, int maxq) {
        double q = Math.rint(w / scale) + zero;
        return (int) Math.max(qmin, Math.min(maxq, q));
    }

    /** The value of code {@code q}: {@code scale · (q − zero)}. */
    public static double value(int q, double scale, double zero) {
        return scale * (q - zero);
    }

    /** {@code value(code(w))}. */
    public static double roundTrip(double w, double scale, double zero, int qmin, int maxq) {
        return value(code(w, scale, zero, qmin, maxq), scale, zero);
    }

    /** The code of {@code w} on a grid of {@code kind} with parameters {@code (scale, b)} (b = zero or offset). */
    public static int code(GridKind kind, double w, double scale, double b, int qmin, int maxq) {
        if (kind == GridKind.ASYM_OFFSET) {
            double q = Math.rint((w - b) / scale);
            return (int) Math.max(qmin, Math.min(maxq, q));
        }
        return code(w, scale, b, qmin, maxq);
    }

    /**
     * The value of code {@code q} on a grid of {@code kind}. For {@link GridKind#ASYM_OFFSET}
     * {@code float(scale)·q + float(m)} in float32: the product is exact (a scale of at most 24 significant bits
     * times a code below 2^8 would not be, but fp16 scales have 11), so the one rounding of the sum is the same as
     * in a GGML decoder computing {@code d·q + m} in float.
     */
    public static double value(GridKind kind, int q, double scale, double b) {
        if (kind == GridKind.ASYM_OFFSET) {
            return (float) scale * q + (float) b;
        }
        return value(q, scale, b);
    }

    /** {@code value(kind, code(kind, w))}. */
    public static double roundTrip(GridKind kind, double w, double scale, double b, int qmin, int maxq) {
        return value(kind, code(kind, w, scale, b, qmin, maxq), scale, b);
    }

    /**
     * Fits the grid of {@code scheme} to {@code v[off, off+len)} with the range shrunk by {@code p} (1 = the
     * full range). Writes {@code out[0] = scale}, {@code out[1] = zero}.
     */
    public static void fit(QuantScheme scheme, double[] v, int off, int len, double p, double[] out) {
        fit(scheme, v, off, len, p, p, out);
    }

    /**
     * Fits the grid of an asymmetric scheme with its two ends shrunk independently: {@code lo' = pLo·lo},
     * {@code hi' = pHi·hi} (lo, hi as {@link GridKind} defines them). A symmetric kind's range is set by the larger
     * end, so it needs {@code pLo == pHi}. Writes {@code out[0] = scale}, {@code out[1] = zero}.
     *
     * @throws IllegalArgumentException if the kind is symmetric and {@code pLo != pHi}
     */
    public static void fit(QuantScheme scheme, double[] v, int off, int len, double pLo, double pHi, double[] out) {
        if (pLo != pHi && scheme.kind().symmetric()) {
            throw new IllegalArgumentException("Grid.fit: a symmetric grid (" + scheme.kind() + ") has one shrink"
                    + " factor; got " + pLo + " and " + pHi);
        }
        double p = pHi;
        int maxq = scheme.maxq();
        int half = 1 << (scheme.bits() - 1);
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, ext = 0;
        for (int i = off; i < off + len; i++) {
            double x = v[i];
            min = Math.min(min, x);
            max = Math.max(max, x);
            if (Math.abs(x) > Math.abs(ext)) {
                ext = x;                                   // first element of largest magnitude, with its sign
            }
        }
        if (len == 0) {
            min = 0;
            max = 0;
        }
        double scale, zero;
        switch (scheme.kind()) {
            case ASYM_ZERO -> {
                double lo = Math.min(min, 0), hi = Math.max(max, 0);
                if (lo == 0 && hi == 0) {                  // all-zero slice: GPTQ's guard
                    lo = -1;
                    hi = 1;
                }
                lo *= pLo;
                hi *= pHi;
                scale = store(scheme, (hi - lo) / maxq);
                zero = Math.rint(-lo / scale);
            }
            case ASYM_MINMAX -> {
                double lo = pLo * min, hi = pHi * max;
                scale = store(scheme, Math.max(hi - lo, 1e-5) / maxq);
                zero = Math.max(0, Math.min(maxq, Math.rint(-lo / scale)));
            }
            case ASYM_OFFSET -> {
                double lo = pLo * min, hi = pHi * max;
                scale = store(scheme, Math.max(hi - lo, 1e-5) / maxq);
                zero = store(scheme, lo, true);
            }
            case SYM -> {
                double a = Math.max(Math.abs(min), Math.abs(max));
                if (a == 0) {
                    a = 1;
                }
                scale = store(scheme, 2 * (p * a) / maxq);
                zero = (maxq + 1) / 2;
            }
            case SYM_SIGNED_MAX -> {
                double m = ext == 0 ? -half : ext;         // all-zero slice: scale 1
                scale = store(scheme, p * m / -half);
                zero = half;
            }
            case SYM_RESTRICTED -> {
                double a = Math.max(Math.abs(min), Math.abs(max));
                if (a == 0) {
                    a = half - 1;                          // all-zero slice: scale 1
                }
                scale = store(scheme, p * a / (half - 1));
                zero = half;
            }
            default -> throw new IllegalStateException(scheme.kind().toString());
        }
        out[0] = scale;
        out[1] = zero;
    }

    /** Rounds a scale to the scheme's storage format, never to 0 (which would divide by zero). */
    static double store(QuantScheme scheme, double s) {
        return store(scheme, s, false);
    }

    /** Rounds an offset (ASYM_OFFSET's m) to the scheme's storage format; unlike a scale it may round to 0. */
    static double storeOffset(QuantScheme scheme, double m) {
        return store(scheme, m, true);
    }

    // Rounds to the storage format; a zero result is allowed for an offset, never for a scale.
    private static double store(QuantScheme scheme, double s, boolean zeroOk) {
        double r = scheme.scales() == QuantScheme.ScaleFormat.F16
                ? Float.float16ToFloat(Float.floatToFloat16((float) s)) : (double) (float) s;
        if ((r == 0 && !zeroOk) || Double.isInfinite(r)) {
            throw new IllegalArgumentException("grid scale " + s + " is not representable as " + scheme.scales()
                    + " (weights too small or too large for this storage format)");
        }
        return r;
    }

    /**
     * Fits the grid to {@code v[off, off+len)} with the scheme's {@link ClipSearch}: the candidate with the
     * smallest {@code Σ|roundTrip(v) − v|^norm}. Writes {@code out[0] = scale}, {@code out[1] = zero}.
     */
    public static void search(QuantScheme scheme, double[] v, int off, int len, double[] out) {
        search(scheme, v, off, len, null, out);
    }

    /**
     * As {@link #search(QuantScheme, double[], int, int, double[])} with each element's error weighted: the
     * candidate with the smallest {@code Σ_j a_j·|roundTrip(v_j) − v_j|^norm}, {@code a_j = importance[j]} (indexed
     * as {@code v}; null: all 1). With {@code a_j = E[x_j²]}, the mean square of the input channel that weight j
     * multiplies, this is the diagonal of the output error {@code Δwᵀ·H·Δw}; {@link Rtn} multiplies it by
     * llama.cpp's {@code sqrt(σ² + w_j²)}.
     */
    public static void search(QuantScheme scheme, double[] v, int off, int len, double[] importance, double[] out) {
        ClipSearch c = scheme.clip();
        fit(scheme, v, off, len, 1.0, out);
        int steps = c.steps();
        if (steps == 1) {
            return;
        }
        double best = Double.POSITIVE_INFINITY;
        int bi = 0;
        double[] cand = new double[2];
        for (int i = 0; i < steps; i++) {
            fit(scheme, v, off, len, c.shrink(i), cand);
            double err = error(scheme, v, off, len, importance, cand);
            if (err < best) {
                best = err;
                bi = i;
                out[0] = cand[0];
                out[1] = cand[1];
            }
        }
        if (c.twoSided() && !scheme.kind().symmetric()) {
            twoSided(scheme, v, off, len, importance, bi, best, out);
        }
    }

    // The coordinate descent of ClipSearch.twoSided from the proportional search's (i, i) with error best: scans
    // alternate between the low end (i) and the high end (k); a scan after the first that moves nothing ends it.
    private static void twoSided(QuantScheme scheme, double[] v, int off, int len, double[] importance, int start,
                                 double best, double[] out) {
        ClipSearch c = scheme.clip();
        int steps = c.steps();
        int[] ik = {start, start};
        double[] cand = new double[2];
        for (int scan = 0; scan < ClipSearch.MAX_SCANS; scan++) {
            int end = scan % 2;                       // 0: scan the low end's factor, 1: the high end's
            int from = ik[end];
            for (int j = 0; j < steps; j++) {
                if (j == from) {
                    continue;
                }
                int i = end == 0 ? j : ik[0], k = end == 0 ? ik[1] : j;
                fit(scheme, v, off, len, c.shrink(i), c.shrink(k), cand);
                double err = error(scheme, v, off, len, importance, cand);
                if (err < best) {
                    best = err;
                    ik[end] = j;
                    out[0] = cand[0];
                    out[1] = cand[1];
                }
            }
            if (scan > 0 && ik[end] == from) {
                return;
            }
        }
    }

    // Σ_j a_j·|roundTrip(v_j) − v_j|^norm over the slice (a_j = 1 without importance) on the grid (sz[0], sz[1]).
    private static double error(QuantScheme scheme, double[] v, int off, int len, double[] importance, double[] sz) {
        GridKind kind = scheme.kind();
        int qmin = kind.minCode(), maxq = scheme.maxq();
        double norm = scheme.clip().norm();
        double err = 0;
        for (int j = off; j < off + len; j++) {
            double e = Math.abs(roundTrip(kind, v[j], sz[0], sz[1], qmin, maxq) - v[j]);
            double ej = norm == 2.0 ? e * e : Math.pow(e, norm);
            err += importance == null ? ej : importance[j] * ej;
        }
        return err;
    }
}
