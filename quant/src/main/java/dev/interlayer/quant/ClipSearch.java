package dev.interlayer.quant;

/**
 * The MSE-optimal clipping search of GPTQ ({@code mse=True}): for {@code i = 0 … floor(maxShrink·grid) − 1}
 * the slice's range is shrunk by {@code p = 1 − i/grid} ({@code lo' = p·lo}, {@code hi' = p·hi}; symmetric
 * grids keep their fixed zero) and the candidate with the smallest {@code Σ|dequant(quant(v)) − v|^norm}
 * wins (strictly smaller; ties keep the earlier, larger {@code p}). {@code p = 1} is always tried, so the
 * searched error never exceeds plain rounding.
 *
 * <p>{@code twoSided} (asymmetric grids only; the symmetric kinds' range is set by the larger end, so they keep
 * the search above): the two ends shrink independently, {@code lo' = p(i)·lo}, {@code hi' = p(k)·hi}, and the
 * pair {@code (i, k)} is found by coordinate descent from the proportional search's best {@code (i*, i*)}: scan
 * every {@code i} with {@code k} fixed, then every {@code k} with {@code i} fixed, and so on, each scan keeping
 * a candidate only if its error is strictly smaller than the current one (ties keep the current pair, then the
 * earlier candidate), until a scan after the first moves nothing or {@link #MAX_SCANS} scans have run. A
 * shrunk-proportionally search can only shave both ends of a lopsided group together; this one can clip the
 * outlier's end alone. It starts from the proportional search's choice and only accepts decreases, so its error
 * never exceeds that search's.
 *
 * @param grid      steps per unit of shrink (GPTQ: 100)
 * @param maxShrink largest fraction the range may shrink by (GPTQ: 0.8)
 * @param norm      exponent of the error (GPTQ: 2.4; 2 for MSE)
 * @param twoSided  shrink the two ends of an asymmetric grid independently (see above)
 */
public record ClipSearch(int grid, double maxShrink, double norm, boolean twoSided) {
    /** No search: the full range ({@code p = 1}). */
    public static final ClipSearch NONE = new ClipSearch(1, 0.0, 2.0);
    /** GPTQ's defaults: grid 100, shrink up to 0.8, norm 2.4. */
    public static final ClipSearch GPTQ = new ClipSearch(100, 0.8, 2.4);
    /** Plain squared error with GPTQ's grid. */
    public static final ClipSearch MSE = new ClipSearch(100, 0.8, 2.0);
    /** {@link #MSE} with the two ends of asymmetric grids searched independently. */
    public static final ClipSearch MSE_TWO_SIDED = MSE.withTwoSided(true);
    /**
     * Most coordinate scans of the two-sided search (the first lo scan included); bounds its cost at
     * {@code (1 + MAX_SCANS)·steps()} candidates per slice.
     */
    public static final int MAX_SCANS = 6;

    public ClipSearch {
        if (grid < 1 || !(maxShrink >= 0 && maxShrink <= 1) || !(norm > 0)) {
            throw new IllegalArgumentException("ClipSearch needs grid >= 1, 0 <= maxShrink <= 1, norm > 0; got "
                    + grid + ", " + maxShrink + ", " + norm);
        }
    }

    /** The proportional (one-factor) search. */
    public ClipSearch(int grid, double maxShrink, double norm) {
        this(grid, maxShrink, norm, false);
    }

    /** The same search with the two-sided variant on or off. */
    public ClipSearch withTwoSided(boolean on) {
        return new ClipSearch(grid, maxShrink, norm, on);
    }

    /** Number of shrink candidates tried (at least one: {@code p = 1}). */
    public int steps() {
        return Math.max(1, (int) Math.floor(maxShrink * grid));
    }

    /** The shrink factor of candidate {@code i}: {@code 1 − i/grid}. */
    public double shrink(int i) {
        return 1.0 - (double) i / grid;
    }
}
