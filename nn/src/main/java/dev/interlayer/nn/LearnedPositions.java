package dev.interlayer.nn;

import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

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
            long src = table.offset() + (firstPosition + t) * table.stride(0);
            long dst = x.offset() + t * x.stride(0);
            for (int i = 0; i < d; i++) {
                long o = dst + i * x.stride(1);
                x.writeFloat(o, x.readFloat(o) + table.readFloat(src + i * table.stride(1)));
            }
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
            long src = table.offset() + positions[t] * table.stride(0);
            long dst = x.offset() + t * x.stride(0);
            for (int i = 0; i < d; i++) {
                long o = dst + i * x.stride(1);
                x.writeFloat(o, x.readFloat(o) + table.readFloat(src + i * table.stride(1)));
            }
        }
        return x;
    }
}
