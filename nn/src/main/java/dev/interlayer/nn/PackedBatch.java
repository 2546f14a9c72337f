package dev.interlayer.nn;

import java.util.Arrays;

/**
 * B sequences of unequal lengths stored back to back as the rows of one [n, d] matrix, n = Σ_b len_b,
 * instead of a padded [B, T_max, d] batch: rows [start(b), start(b) + length(b)) belong to sequence b,
 * and row r carries the position {@link #position(int) position(r)} its token had in the caller's input
 * (0, 1, … for plain sequences; the column index for a padded batch, as Hugging Face numbers
 * {@code position_ids} regardless of the attention mask).
 *
 * <p>Row-wise layers (linear, norm, feed-forward) run on the n real rows only; attention restricted to
 * each sequence's own rows is what a key padding mask of −∞ gives the real tokens of a padded batch.
 * So no work is spent on padding. Immutable.
 */
public final class PackedBatch {
    private final int[] offsets;   // [B + 1], offsets[b] = Σ_{c<b} len_c
    private final int[] positions; // [n] position of each row within its sequence
    private final int maxLength;

    private PackedBatch(int[] offsets, int[] positions) {
        this.offsets = offsets;
        this.positions = positions;
        int max = 0;
        for (int b = 0; b + 1 < offsets.length; b++) {
            max = Math.max(max, offsets[b + 1] - offsets[b]);
        }
        this.maxLength = max;
    }

    /**
     * Sequences of the given lengths, each at positions 0 .. len − 1.
     *
     * @throws IllegalArgumentException if a length is negative or the total overflows an int
     */
    public static PackedBatch ofLengths(int... lengths) {
        int[] off = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) {
            if (lengths[b] < 0) {
                throw new IllegalArgumentException("PackedBatch: sequence " + b + " has negative length " + lengths[b]);
            }
            off[b + 1] = Math.addExact(off[b], lengths[b]);
        }
        int[] pos = new int[off[lengths.length]];
        for (int b = 0; b < lengths.length; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                pos[off[b] + t] = t;
            }
        }
        return new PackedBatch(off, pos);
    }

    /** The batch of {@code sequences} as given (lengths = the arrays' lengths), positions from 0. */
    public static PackedBatch of(int[][] sequences) {
        int[] lengths = new int[sequences.length];
        for (int b = 0; b < lengths.length; b++) {
            lengths[b] = sequences[b].length;
        }
        return ofLengths(lengths);
    }

    /**
     * The real tokens of a padded batch: valid[b][t] = true keeps token t of row b, at position t; padded
     * tokens get no row at all. Valid tokens need not be contiguous (left or right padding both work).
     *
     * @throws IllegalArgumentException if the rows of {@code valid} differ in length
     */
    public static PackedBatch fromMask(boolean[][] valid) {
        int[] off = new int[valid.length + 1];
        int width = valid.length == 0 ? 0 : valid[0].length;
        for (int b = 0; b < valid.length; b++) {
            if (valid[b].length != width) {
                throw new IllegalArgumentException("PackedBatch.fromMask: row " + b + " has " + valid[b].length
                        + " entries, row 0 has " + width);
            }
            int n = 0;
            for (boolean v : valid[b]) {
                n += v ? 1 : 0;
            }
            off[b + 1] = off[b] + n;
        }
        int[] pos = new int[off[valid.length]];
        int r = 0;
        for (boolean[] row : valid) {
            for (int t = 0; t < width; t++) {
                if (row[t]) {
                    pos[r++] = t;
                }
            }
        }
        return new PackedBatch(off, pos);
    }

    /**
     * Concatenates per-sequence values (token ids, token types) into one array of n entries, in row order.
     *
     * @throws IllegalArgumentException if there are not B arrays or one has a length other than its sequence's
     */
    public int[] pack(String what, int[][] perSequence) {
        if (perSequence.length != sequences()) {
            throw new IllegalArgumentException("PackedBatch.pack: " + perSequence.length + " " + what
                    + " arrays for " + sequences() + " sequences");
        }
        int[] out = new int[rows()];
        for (int b = 0; b < perSequence.length; b++) {
            if (perSequence[b].length != length(b)) {
                throw new IllegalArgumentException("PackedBatch.pack: sequence " + b + " has " + length(b)
                        + " tokens but " + perSequence[b].length + " " + what);
            }
            System.arraycopy(perSequence[b], 0, out, start(b), length(b));
        }
        return out;
    }

    /** Number of sequences B. */
    public int sequences() {
        return offsets.length - 1;
    }

    /** Number of rows n = Σ len_b. */
    public int rows() {
        return offsets[offsets.length - 1];
    }

    /** First row of sequence b. */
    public int start(int b) {
        return offsets[b];
    }

    /** Length of sequence b. */
    public int length(int b) {
        return offsets[b + 1] - offsets[b];
    }

    /** Longest sequence (0 for an empty batch). */
    public int maxLength() {
        return maxLength;
    }

    /** Position of row r's token within its sequence. */
    public int position(int row) {
        return positions[row];
    }

    /** A copy of every row's position, [n]. */
    public int[] positions() {
        return positions.clone();
    }

    int[] positionsView() {
        return positions;
    }

    @Override
    public String toString() {
        int[] lengths = new int[sequences()];
        for (int b = 0; b < lengths.length; b++) {
            lengths[b] = length(b);
        }
        return "PackedBatch" + Arrays.toString(lengths);
    }
}
