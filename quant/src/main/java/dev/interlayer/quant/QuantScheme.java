package dev.interlayer.quant;

/**
 * What a quantizer produces: {@code bits}-bit codes on a {@link GridKind} grid, one {@code (scale, zero)} per
 * group of {@code groupSize} consecutive input columns of each output row ({@code groupSize = 0} means one
 * group per row; a short last group is allowed), with the scale stored as {@link ScaleFormat}. Bits per
 * weight: {@code bits + (scaleBits + bits)/groupSize} with a stored zero, {@code bits + scaleBits/groupSize}
 * without.
 *
 * @param kind      grid
 * @param bits      code width, 2..8
 * @param groupSize columns per group, or 0 for per-row
 * @param clip      clipping search applied when a grid is fitted
 * @param scales    storage precision of the scale; the quantizers round it before using it, so the stored
 *                  grid is exactly the grid the codes were chosen on
 */
public record QuantScheme(GridKind kind, int bits, int groupSize, ClipSearch clip, ScaleFormat scales) {
    /** How the per-group scale is stored. */
    public enum ScaleFormat { F32, F16 }

    public QuantScheme {
        if (kind == null || clip == null || scales == null) {
            throw new IllegalArgumentException("QuantScheme: kind, clip and scales must be given");
        }
        if (bits < 2 || bits > 8) {
            throw new IllegalArgumentException("QuantScheme: bits must be 2..8, got " + bits);
        }
        if (groupSize < 0) {
            throw new IllegalArgumentException("QuantScheme: groupSize must be >= 0 (0 = per row), got " + groupSize);
        }
    }

    /** A scheme with F32 scales and no clipping search. */
    public static QuantScheme of(GridKind kind, int bits, int groupSize) {
        return new QuantScheme(kind, bits, groupSize, ClipSearch.NONE, ScaleFormat.F32);
    }

    /** The same scheme with another clipping search. */
    public QuantScheme withClip(ClipSearch c) {
        return new QuantScheme(kind, bits, groupSize, c, scales);
    }

    /** The same scheme with another group size. */
    public QuantScheme withGroupSize(int g) {
        return new QuantScheme(kind, bits, g, clip, scales);
    }

    /** Largest code, {@code 2^bits − 1}. */
    public int maxq() {
        return (1 << bits) - 1;
    }

    /** Columns per group for a matrix with {@code cols} input columns. */
    public int groupFor(int cols) {
        return groupSize == 0 || groupSize > cols ? Math.max(cols, 1) : groupSize;
    }
}
