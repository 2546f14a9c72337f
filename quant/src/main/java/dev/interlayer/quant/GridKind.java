package dev.interlayer.quant;

/**
 * The uniform grids a slice of weights (a row or a group of consecutive input columns) can be rounded to.
 * Every kind is stored the same way: an unsigned integer code {@code q} in {@code [qmin, maxq]} with
 * {@code maxq = 2^bits − 1}, and {@code value = scale · (q − zero)} with an integer {@code zero}. They differ
 * in how {@code scale} and {@code zero} are chosen from the slice's values {@code v}:
 *
 * <ul>
 *   <li>{@link #ASYM_ZERO}: {@code lo = min(min v, 0)}, {@code hi = max(max v, 0)},
 *       {@code scale = (hi − lo)/maxq}, {@code zero = rne(−lo/scale)}. Zero is exact (GPTQ's default grid,
 *       Frantar et al., "GPTQ", ICLR 2023).</li>
 *   <li>{@link #ASYM_MINMAX}: {@code lo = min v}, {@code hi = max v}, {@code scale = max(hi − lo, 1e-5)/maxq},
 *       {@code zero = clamp(rne(−lo/scale), 0, maxq)} (AWQ's grid, Lin et al., MLSys 2024); zero is in
 *       general not representable.</li>
 *   <li>{@link #SYM}: {@code a = max|v|}, {@code scale = 2a/maxq}, {@code zero = (maxq + 1)/2}: levels
 *       {@code −2^(b−1)·scale … (2^(b−1) − 1)·scale} (GPTQ's "sym" flag).</li>
 *   <li>{@link #SYM_SIGNED_MAX}: {@code m} = the element of largest magnitude with its sign,
 *       {@code scale = m / −2^(b−1)} (may be negative), {@code zero = 2^(b−1)}: the extreme element maps
 *       exactly to code 0 (the GGML Q4_0/Q5_0 grid).</li>
 *   <li>{@link #SYM_RESTRICTED}: {@code scale = max|v| / (2^(b−1) − 1)}, {@code zero = 2^(b−1)}, codes in
 *       {@code [1, maxq]} so {@code q − zero ∈ [−(2^(b−1) − 1), 2^(b−1) − 1]} (int8 ±127 as in
 *       SmoothQuant and ONNX Runtime; also GGML Q8_0).</li>
 *   <li>{@link #ASYM_OFFSET}: {@code lo = min v}, {@code hi = max v}, {@code scale = max(hi − lo, 1e-5)/maxq} and
 *       an offset {@code m = lo}, both rounded to the scale format; {@code value = scale·q + m} with
 *       {@code q = clamp(rne((w − m)/scale), 0, maxq)}. The GGML Q4_1/Q5_1 grid ({@code d} and {@code m} in
 *       fp16): the only kind whose second parameter is not an integer zero point.</li>
 * </ul>
 * Codes are {@code clamp(rne(w/scale) + zero, qmin, maxq)} with {@code rne} = round half to even (for
 * {@link #ASYM_OFFSET} as above).
 */
public enum GridKind {
    /** Asymmetric, range forced to contain 0 (GPTQ default). */
    ASYM_ZERO,
    /** Asymmetric min/max without forcing 0 into the range (AWQ). */
    ASYM_MINMAX,
    /** Symmetric around 0 with scale 2·max|v|/maxq and zero (maxq+1)/2 (GPTQ "sym"). */
    SYM,
    /** Symmetric, scale from the signed extreme element (GGML Q4_0 style). */
    SYM_SIGNED_MAX,
    /** Symmetric restricted range ±(2^(b−1) − 1) (int8 ±127 style). */
    SYM_RESTRICTED,
    /** Asymmetric with a stored offset instead of an integer zero point (GGML Q4_1/Q5_1). */
    ASYM_OFFSET;

    /** Whether this grid stores a per-slice integer zero point (the symmetric kinds use a constant one). */
    public boolean storesZero() {
        return this == ASYM_ZERO || this == ASYM_MINMAX;
    }

    /** Whether this grid stores a per-slice offset {@code m} (as wide as a scale): {@code value = scale·q + m}. */
    public boolean storesOffset() {
        return this == ASYM_OFFSET;
    }

    /**
     * Whether the grid's range is symmetric about zero, set by the group's largest magnitude ({@link #SYM},
     * {@link #SYM_SIGNED_MAX}, {@link #SYM_RESTRICTED}), so shrinking only the smaller end changes nothing.
     */
    public boolean symmetric() {
        return !storesZero() && !storesOffset();
    }

    /** Smallest code this grid uses for {@code bits}-bit codes. */
    public int minCode() {
        return this == SYM_RESTRICTED ? 1 : 0;
    }
}
