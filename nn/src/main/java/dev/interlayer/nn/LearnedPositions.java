package dev.interlayer.nn;

import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.BlockFormats;

/**
 * Learned absolute position embeddings (GPT-2, BERT): x[t] += table[pos(t)], with pos(t) = firstPosition + t
 * or caller-supplied positions.
 *
 * <p>Shapes: table [maxPositions, dim]; x [T, dim].
 *
 * @param table [maxPositions, dim]
 */
public record LearnedPositions(Tensor table) {
    /**
     * Checks the table shape.
     *
     * @throws ShapeMismatchException if table is null or not [maxPositions, dim]
     */
    public LearnedPositions {
        if (table == null || table.rank() != 2) {
            throw new ShapeMismatchException("LearnedPositions: table must be [maxPositions, dim], got "
                    + (table == null ? "null" : table.shape()));
        }
    }

    /** Number of positions the table covers. */
    public int maxPositions() {
        return table.dim(0);
    }

    /**
     * x[t, :] += table[firstPosition + t, :]. Modifies {@code x}.
     *
     * @throws IllegalArgumentException if a position is past the table
     */
    public Tensor addTo(Tensor x, int firstPosition) {
        int tokens = x.dim(0), d = x.dim(1);
        if (d != table.dim(1)) {
            throw ShapeMismatchException.of("LearnedPositions.addTo", "x [T, dim] must match table [P, dim]",
                    x.shape(), table.shape());
        }
        if (firstPosition < 0 || firstPosition + tokens > maxPositions()) {
            throw new IllegalArgumentException("LearnedPositions: positions [" + firstPosition + ", "
                    + (firstPosition + tokens) + ") are past the table of " + maxPositions() + " positions");
        }
        for (int t = 0; t < tokens; t++) {
            addRow(x, t, firstPosition + t, d);
        }
        return x;
    }

    /**
     * x[t, :] += table[positions[t], :]. Modifies {@code x}.
     *
     * @throws IllegalArgumentException if positions has a length other than T or a position is outside the table
     */
    public Tensor addTo(Tensor x, int[] positions) {
        int tokens = x.dim(0), d = x.dim(1);
        if (d != table.dim(1)) {
            throw ShapeMismatchException.of("LearnedPositions.addTo", "x [T, dim] must match table [P, dim]",
                    x.shape(), table.shape());
        }
        if (positions.length != tokens) {
            throw new IllegalArgumentException("LearnedPositions.addTo: positions has " + positions.length
                    + " entries for " + tokens + " tokens");
        }
        for (int t = 0; t < tokens; t++) {
            int p = positions[t];
            if (p < 0 || p >= maxPositions()) {
                throw new IllegalArgumentException("LearnedPositions.addTo: position " + p + " at index " + t
                        + " is outside the table of " + maxPositions() + " positions");
            }
        }
        for (int t = 0; t < tokens; t++) {
            addRow(x, t, positions[t], d);
        }
        return x;
    }

    /** Per-thread row of a block-quantized table, decoded before it is added (never the whole table). */
    private static final ThreadLocal<float[][]> QUANT_ROW = ThreadLocal.withInitial(() -> new float[1][]);

    // x[t, :] += table[p, :]; a block-quantized table (a quantized GGUF's position_embd) is decoded one row
    // at a time by the format's reference codec into per-thread scratch, so nothing is allocated per token.
    private void addRow(Tensor x, int t, int p, int d) {
        long dst = x.offset() + t * x.stride(0);
        if (table.dtype().isQuantized()) {
            float[][] holder = QUANT_ROW.get();
            if (holder[0] == null || holder[0].length < d) {
                holder[0] = new float[d];
            }
            float[] row = holder[0];
            long rowStart = table.offset() + p * table.stride(0);
            BlockFormats.of(table.dtype()).dequantizeRow(table.segment(), table.dtype().byteSize(rowStart), d, row, 0);
            for (int i = 0; i < d; i++) {
                long o = dst + i * x.stride(1);
                x.writeFloat(o, x.readFloat(o) + row[i]);
            }
            return;
        }
        long src = table.offset() + p * table.stride(0);
        for (int i = 0; i < d; i++) {
            long o = dst + i * x.stride(1);
            x.writeFloat(o, x.readFloat(o) + table.readFloat(src + i * table.stride(1)));
        }
    }
}
