package dev.interlayer.nn.moe;

import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;

/**
 * Sparse expert execution: acc[t] += w·Expert_e(src[t]) for every kept assignment (t, e, w) of a
 * {@link Routing}. The assignments are grouped by expert with a counting sort; each expert that received
 * tokens gathers its rows into one contiguous buffer and runs once on all of them, so prefill does one
 * GEMM (tensor MatMul) per weight matrix of each active expert and decode reads only the weights of the
 * selected experts. Experts without tokens cost nothing.
 *
 * <p>Shapes: src [T, ≥ srcCol + in]; an expert maps [n, in] → [n, out]; acc is a row-major float array
 * with rows of {@code accStride} floats, written at columns [accCol, accCol + out).
 *
 * <p>Preallocated for a session (no allocation per call); mutable; one thread owns it.
 */
public final class GroupedExperts {
    /** One expert's computation on a block of gathered rows. */
    public interface Expert {
        /** out = Expert_e(in). Shapes: in [n, inWidth], out [n, outWidth]. */
        void apply(int expert, Tensor in, Tensor out);
    }

    private final int[] start;   // [E + 1] group starts in order
    private final int[] fill;    // [E] next free place per group
    private final int[] order;   // [maxAssignments] assignment ids grouped by expert
    private final RowBuffer in;  // [maxRows, inWidth] gathered rows of one expert
    private final RowBuffer out; // [maxRows, outWidth] that expert's outputs
    private final int inWidth;
    private final int outWidth;

    /**
     * Buffers for E experts, up to maxAssignments assignments per call, at most maxRows of them for one
     * expert, and experts mapping inWidth → outWidth.
     */
    public GroupedExperts(int experts, int maxAssignments, int maxRows, int inWidth, int outWidth) {
        this(experts, maxAssignments, new RowBuffer(maxRows, inWidth), new RowBuffer(maxRows, outWidth));
    }

    /**
     * As above, gathering into {@code in} [maxRows, inWidth] and running experts into {@code out} [maxRows,
     * outWidth] (buffers that may be shared with other layers of a session: they are free between calls).
     *
     * @throws IllegalArgumentException if the buffers hold different row counts
     */
    public GroupedExperts(int experts, int maxAssignments, RowBuffer in, RowBuffer out) {
        if (in.maxRows() != out.maxRows()) {
            throw new IllegalArgumentException("GroupedExperts: gather buffer holds " + in.maxRows()
                    + " rows, output buffer " + out.maxRows());
        }
        this.start = new int[experts + 1];
        this.fill = new int[experts];
        this.order = new int[Math.max(1, maxAssignments)];
        this.in = in;
        this.out = out;
        this.inWidth = in.cols();
        this.outWidth = out.cols();
    }

    /**
     * acc[accOff + t·accStride + accCol + j] += w·Expert_e(src[t, srcCol ..])[j] over the kept assignments of
     * {@code r}; experts run in index order, each on its tokens in assignment order.
     *
     * @throws IllegalStateException if one expert received more rows than the buffers hold
     */
    public void run(Routing r, Tensor src, int srcCol, Expert f, float[] acc, int accOff, int accStride,
                    int accCol) {
        int e = r.experts(), n = r.count();
        Arrays.fill(start, 0);
        for (int i = 0; i < n; i++) {
            if (!r.dropped(i)) {
                start[r.expert(i) + 1]++;
            }
        }
        for (int j = 0; j < e; j++) {
            start[j + 1] += start[j];
        }
        System.arraycopy(start, 0, fill, 0, e);
        for (int i = 0; i < n; i++) {
            if (!r.dropped(i)) {
                order[fill[r.expert(i)]++] = i;
            }
        }
        float[] gin = in.data(), gout = out.data();
        for (int j = 0; j < e; j++) {
            int rows = start[j + 1] - start[j];
            if (rows == 0) {
                continue;
            }
            if (rows > in.maxRows()) {
                throw new IllegalStateException("expert " + j + " received " + rows + " rows, buffers hold "
                        + in.maxRows());
            }
            for (int q = 0; q < rows; q++) {
                gatherRow(src, r.token(order[start[j] + q]), srcCol, gin, q * inWidth, inWidth);
            }
            f.apply(j, in.rows(rows), out.rows(rows));
            for (int q = 0; q < rows; q++) {
                int a = order[start[j] + q];
                Ops.axpy(r.weight(a), gout, q * outWidth, acc, accOff + r.token(a) * accStride + accCol, outWidth);
            }
        }
    }

    /** dst[dstOff ..+ width) = x[row, col ..+ width) for any F32/F16/BF16 view. */
    static void gatherRow(Tensor x, int row, int col, float[] dst, int dstOff, int width) {
        float[] heap = x.heapFloats();
        if (heap != null && x.stride(1) == 1) {
            // a heap segment may start inside its array
            long base = x.segment().address() / Float.BYTES + x.offset();
            System.arraycopy(heap, (int) (base + row * x.stride(0) + col), dst, dstOff, width);
            return;
        }
        long base = x.offset() + row * x.stride(0) + col * x.stride(1);
        for (int i = 0; i < width; i++) {
            dst[dstOff + i] = x.readFloat(base + i * x.stride(1));
        }
    }
}
