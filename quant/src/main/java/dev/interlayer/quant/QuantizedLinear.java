package dev.interlayer.quant;

import java.util.Arrays;

/**
 * A linear layer's weight {@code W[rows, cols]} in the plain grouped integer format every quantizer here
 * produces: {@code W[r][c] ≈ scales[r, g] · (codes[r, c] − zeros[r, g])} with {@code g = group(c)} (for
 * {@link GridKind#ASYM_OFFSET}, {@code zeros} holds the offsets m: {@code W[r][c] ≈ scales[r, g]·codes[r, c] +
 * zeros[r, g]}).
 *
 * <p>Layout: {@code codes} row-major {@code [rows, cols]}, one unsigned byte per weight (0..2^bits − 1,
 * read with {@link Byte#toUnsignedInt}); {@code scales} and {@code zeros} row-major {@code [rows, groups]}
 * with {@code groups = ceil(cols / groupSize)}. {@code groupIndex} is null when group {@code g} holds columns
 * {@code [g·groupSize, (g+1)·groupSize)}; after act-order with dynamic groups it maps each (original) column
 * to its group. This is the mapping point to GGML blocks: with {@code groupIndex == null} and
 * {@code groupSize} = the block size, {@link GridKind#SYM_SIGNED_MAX} 4/5-bit groups are Q4_0/Q5_0 blocks
 * ({@code d = scale}, {@code q} unchanged), {@link GridKind#SYM_RESTRICTED} 8-bit groups are Q8_0
 * ({@code d = scale}, {@code qs = q − 128}), and {@link GridKind#ASYM_OFFSET} 4/5-bit groups are Q4_1/Q5_1
 * ({@code d = scale}, {@code m = zeros}); with fp16 scales all of these are lossless.
 *
 * @param rows       output features
 * @param cols       input features
 * @param scheme     the grid, bits and group size the codes were chosen on
 * @param codes      [rows, cols] unsigned codes
 * @param scales     [rows, groups]
 * @param zeros      [rows, groups] integer zero points (offsets for {@link GridKind#ASYM_OFFSET})
 * @param groupIndex [cols] group of each column, or null for consecutive groups
 */
public record QuantizedLinear(int rows, int cols, QuantScheme scheme, byte[] codes, float[] scales, float[] zeros,
                              int[] groupIndex) {
    public QuantizedLinear {
        int g = scheme.groupFor(cols);
        int groups = cols == 0 ? 0 : (cols + g - 1) / g;
        if ((long) rows * cols != codes.length || (long) rows * groups != scales.length
                || scales.length != zeros.length || (groupIndex != null && groupIndex.length != cols)) {
            throw new IllegalArgumentException("QuantizedLinear: need codes[" + rows + "*" + cols + "], scales and zeros["
                    + rows + "*" + groups + "], groupIndex[" + cols + "]; got " + codes.length + ", " + scales.length
                    + ", " + zeros.length + ", " + (groupIndex == null ? "null" : groupIndex.length));
        }
    }

    /** Columns per group. */
    public int groupSize() {
        return scheme.groupFor(cols);
    }

    /** Number of groups per row. */
    public int groups() {
        return cols == 0 ? 0 : (cols + groupSize() - 1) / groupSize();
    }

    /** The group of column {@code c}. */
    public int group(int c) {
        return groupIndex == null ? c / groupSize() : groupIndex[c];
    }

    /** The unsigned code of {@code W[r][c]}. */
    public int code(int r, int c) {
        return Byte.toUnsignedInt(codes[r * cols + c]);
    }

    /** {@code scale · (code − zero)} of {@code W[r][c]}, in double. */
    public double value(int r, int c) {
        int g = r * groups() + group(c);
        return Grid.value(scheme.kind(), code(r, c), scales[g], zeros[g]);
    }

    /** The dequantized weight, row-major [rows, cols]. */
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = (float) value(r, c);
            }
        }
        return w;
    }

    /**
     * This linear with output row {@code r} multiplied by {@code f[r] > 0}: {@code diag(f)·Ŵ}, the codes unchanged,
     * each group's scale (and an {@link GridKind#ASYM_OFFSET} offset; integer zero points stay) multiplied by
     * {@code f[r]} and rounded to the scheme's storage format again. Every grid here is fitted per (row, group)
     * and is equivariant under a positive factor on the row (min, max, max|v| and the clip candidates all scale
     * with it, apart from the floor on a degenerate group's range), so this is what quantizing {@code diag(f)·W}
     * with a per-row method (RTN, AWQ's clip search, GPTQ) would give, up to that one rounding of the scale;
     * it is how AWQ folds an input scale of a later linear into the rows of the linear that produces its input
     * (Lin et al., AWQ, MLSys 2024) after that linear is quantized. The codes array is shared, not copied.
     *
     * @throws IllegalArgumentException if {@code f.length != rows} or a factor is not positive and finite
     */
    public QuantizedLinear scaleRows(double[] f) {
        if (f.length != rows) {
            throw new IllegalArgumentException("QuantizedLinear.scaleRows: need " + rows + " row factors, got " + f.length);
        }
        int groups = groups();
        float[] s = scales.clone(), z = zeros.clone();
        for (int r = 0; r < rows; r++) {
            if (!(f[r] > 0 && f[r] < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("QuantizedLinear.scaleRows: row " + r + " factor " + f[r]
                        + " is not positive and finite");
            }
            for (int g = r * groups; g < (r + 1) * groups; g++) {
                s[g] = (float) Grid.store(scheme, scales[g] * f[r]);
                if (scheme.kind().storesOffset()) {
                    z[g] = (float) Grid.storeOffset(scheme, zeros[g] * f[r]);
                }
            }
        }
        return new QuantizedLinear(rows, cols, scheme, codes, s, z, groupIndex);
    }

    /**
     * The linears {@code parts} (equal columns, scheme and group index) one above the other:
     * {@code [Σ rows_i, cols]}, part i's rows after part i−1's. This is how a stack of experts
     * {@code [E, rows, cols]} is stored, expert-major (GGUF's 3-D expert tensors), each expert quantized on its own.
     *
     * @throws IllegalArgumentException if {@code parts} is empty or the parts differ in columns, scheme or group index
     */
    public static QuantizedLinear stackRows(java.util.List<QuantizedLinear> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("QuantizedLinear.stackRows: no parts");
        }
        QuantizedLinear p0 = parts.get(0);
        int rows = 0;
        for (QuantizedLinear p : parts) {
            if (p.cols != p0.cols || !p.scheme.equals(p0.scheme) || !Arrays.equals(p.groupIndex, p0.groupIndex)) {
                throw new IllegalArgumentException("QuantizedLinear.stackRows: " + p + " does not stack on " + p0
                        + " (columns, scheme and group index must be equal)");
            }
            rows = Math.addExact(rows, p.rows);
        }
        byte[] codes = new byte[Math.multiplyExact(rows, p0.cols)];
        int groups = p0.groups();
        float[] scales = new float[rows * groups], zeros = new float[rows * groups];
        int r = 0;
        for (QuantizedLinear p : parts) {
            System.arraycopy(p.codes, 0, codes, r * p0.cols, p.codes.length);
            System.arraycopy(p.scales, 0, scales, r * groups, p.scales.length);
            System.arraycopy(p.zeros, 0, zeros, r * groups, p.zeros.length);
            r += p.rows;
        }
        return new QuantizedLinear(rows, p0.cols, p0.scheme, codes, scales, zeros, p0.groupIndex);
    }

    /**
     * Rows {@code [r0, r1)} of this linear as a linear of their own (copies): expert e of a stack made by
     * {@link #stackRows} is {@code rowRange(e·rows, (e+1)·rows)}.
     *
     * @throws IllegalArgumentException unless {@code 0 <= r0 <= r1 <= rows}
     */
    public QuantizedLinear rowRange(int r0, int r1) {
        if (r0 < 0 || r1 < r0 || r1 > rows) {
            throw new IllegalArgumentException("QuantizedLinear.rowRange: [" + r0 + ", " + r1 + ") of " + rows + " rows");
        }
        int groups = groups();
        return new QuantizedLinear(r1 - r0, cols, scheme, Arrays.copyOfRange(codes, r0 * cols, r1 * cols),
                Arrays.copyOfRange(scales, r0 * groups, r1 * groups), Arrays.copyOfRange(zeros, r0 * groups, r1 * groups),
                groupIndex);
    }

    /**
     * Storage cost in bits per weight: codes, scales (16 or 32 bits), zeros ({@code bits}) or offsets (as wide as
     * a scale) if the grid stores them, and 32 bits per column for a group index.
     */
    public double bitsPerWeight() {
        int scaleBits = scheme.scales() == QuantScheme.ScaleFormat.F16 ? 16 : 32;
        double perGroup = scaleBits + (scheme.kind().storesZero() ? scheme.bits() : 0)
                + (scheme.kind().storesOffset() ? scaleBits : 0);
        double idx = groupIndex == null ? 0 : 32.0 * cols;
        return scheme.bits() + (perGroup * rows * groups() + idx) / ((double) rows * cols);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedLinear q && rows == q.rows && cols == q.cols && scheme.equals(q.scheme)
                && Arrays.equals(codes, q.codes) && Arrays.equals(scales, q.scales) && Arrays.equals(zeros, q.zeros)
                && Arrays.equals(groupIndex, q.groupIndex);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codes) * 31 + Arrays.hashCode(scales);
    }

    @Override
    public String toString() {
        return "QuantizedLinear[" + rows + "x" + cols + ", " + scheme + "]";
    }
}
