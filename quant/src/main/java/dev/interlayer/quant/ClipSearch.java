package dev.interlayer.quant;

/**
 * The MSE-optimal clipping search of GPTQ ({@code mse=True}): for {@code i = 0 … floor(maxShrink·grid) − 1}
 * the slice's range is shrunk by {@code p = 1 − i/grid} ({@code lo' = p·lo}, {@code hi' = p·hi}; symmetric
 * grids keep their fixed zero) and the candidate with the smallest {@code Σ|dequant(quant(v)) − v|^norm}
 * wins (strictly smaller; ties keep the earlier, larger {@code p}). {@code p = 1} is always tried, so the
 * searched error never exceeds plain rounding.
 *
 * @param grid      steps per unit of shrink (GPTQ: 100)
 * @param maxShrink largest fraction the range may shrink by (GPTQ: 0.8)
 * @param norm      exponent of the error (GPTQ: 2.4; 2 for MSE)
 */
public record ClipSearch(int grid, double maxShrink, double norm) {
    /** No search: the full range ({@code p = 1}). */
    public static final ClipSearch NONE = new ClipSearch(1, 0.0, 2.0);
    /** GPTQ's defaults: grid 100, shrink up to 0.8, norm 2.4. */
    public static final ClipSearch GPTQ = new ClipSearch(100, 0.8, 2.4);
    /** Plain squared error with GPTQ's grid. */
    public static final ClipSearch MSE = new ClipSearch(100, 0.8, 2.0);

    public ClipSearch {
        if (grid < 1 || !(maxShrink >= 0 && maxShrink <= 1) || !(norm > 0)) {
            throw new IllegalArgumentException("ClipSearch needs grid >= 1, 0 <= maxShrink <= 1, norm > 0; got "
                    + grid + ", " + maxShrink + ", " + norm);
        }
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
