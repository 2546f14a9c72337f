package dev.interlayer.nn.moe;

import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.ScratchPool;
import dev.interlayer.tensor.ComputePool;
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

        /**
         * Readies {@code slots} independent scratch sets so that experts can run concurrently, one per slot;
         * false (the default) when this expert set cannot (then they run one after another).
         */
        default boolean prepareSlots(int slots) {
            return false;
        }

        /** As {@link #apply(int, Tensor, Tensor)} with slot {@code slot}'s scratch (after {@link #prepareSlots}). */
        default void apply(int expert, Tensor in, Tensor out, int slot) {
            apply(expert, in, out);
        }
    }

    /**
     * Least mean rows per active expert for running experts concurrently (each expert's GEMMs then on one
     * thread): below it a call is decode-like, where splitting each expert's weight rows over the threads
     * is what spreads the memory traffic, and where nothing may be allocated.
     */
    static final int PARALLEL_MIN_ROWS = 8;

    private final int[] start;   // [E + 1] group starts in order
    private final int[] fill;    // [E] next free place per group
    private final int[] order;   // [maxAssignments] assignment ids grouped by expert
    private final RowBuffer in;  // [maxRows, inWidth] gathered rows of one expert
    private final RowBuffer out; // [maxRows, outWidth] that expert's outputs
    private final int inWidth;
    private final int outWidth;
    private final int[] active;  // [E] experts with rows (concurrent path: most rows first)
    private final ScratchPool pool; // where allIn/allOut come from (null: private)
    private RowBuffer allIn;     // [maxAssignments, inWidth] every expert's rows at its group's place (lazy)
    private RowBuffer allOut;    // [maxAssignments, outWidth]
    private boolean lastConcurrent;
    private int lastUsed;        // experts with rows in the last call

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
        this(experts, maxAssignments, in, out, null);
    }

    /**
     * As above; the concurrent path's buffers for all assignments ([maxAssignments, inWidth] and [maxAssignments,
     * outWidth], 64 MB for 512 tokens × top-8 at width 2048) come from {@code pool}, so that the layers of a
     * session share one pair instead of holding one each (null: this instance's own, made on first use).
     *
     * @throws IllegalArgumentException if the buffers hold different row counts
     */
    public GroupedExperts(int experts, int maxAssignments, RowBuffer in, RowBuffer out, ScratchPool pool) {
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
        this.active = new int[experts];
        this.pool = pool;
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
        int kept = start[e], used = 0;
        for (int j = 0; j < e; j++) {
            if (start[j + 1] > start[j]) {
                active[used++] = j;
            }
        }
        lastUsed = used;
        int slots = ComputePool.threads();
        lastConcurrent = slots > 1 && used > 1 && kept >= PARALLEL_MIN_ROWS * used && f.prepareSlots(slots);
        if (lastConcurrent) {
            runConcurrently(r, src, srcCol, f, used, slots, acc, accOff, accStride, accCol);
            return;
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

    /**
     * The experts concurrently, each on one thread ({@link ComputePool#parallelTasks}): all groups gathered
     * into one buffer at their group's place, every expert run into its place of a second one, then the
     * weighted sum in the same order as the one-after-another path (experts by index, rows in assignment order); the
     * experts are handed out largest first ({@link #largestFirst}). The gather (rows split over the threads) and the
     * weighted sum (output columns split over the threads) also run on every thread: on one they were ~2.5% of a
     * 256-token, 64-expert top-8 layer's single-thread time, serial while the other thread waited.
     * An expert's output rows do not depend on the thread count (the weight-stream GEMM splits weight rows,
     * never the reduction), so both paths give the same sums.
     */
    private void runConcurrently(Routing r, Tensor src, int srcCol, Expert f, int used, int slots, float[] acc,
                                 int accOff, int accStride, int accCol) {
        int rows = start[r.experts()];
        if (allIn == null) {
            allIn = ScratchPool.rows(pool, "moe all gathered tokens", order.length, inWidth);
            allOut = ScratchPool.rows(pool, "moe all expert outputs", order.length, outWidth);
        }
        float[] gin = allIn.data(), gout = allOut.data();
        ComputePool.parallelFor(slots, s -> {
            for (int q = part(rows, s, slots), q1 = part(rows, s + 1, slots); q < q1; q++) {
                gatherRow(src, r.token(order[q]), srcCol, gin, q * inWidth, inWidth);
            }
        });
        Tensor ins = allIn.rows(rows), outs = allOut.rows(rows);
        largestFirst(used);
        ComputePool.parallelTasks(used, slots, (task, slot) -> {
            int j = active[task];
            int s0 = start[j], n = start[j + 1] - s0;
            f.apply(j, ins.narrow(0, s0, n), outs.narrow(0, s0, n), slot);
        });
        // Each thread a range of output columns, every assignment in order: each element gets the same fused
        // multiply-adds in the same order as one thread would give it (axpy is elementwise).
        ComputePool.parallelFor(slots, s -> {
            int c0 = part(outWidth, s, slots), c1 = part(outWidth, s + 1, slots);
            for (int q = 0; q < rows && c0 < c1; q++) {
                int a = order[q];
                Ops.axpy(r.weight(a), gout, q * outWidth + c0, acc, accOff + r.token(a) * accStride + accCol + c0,
                        c1 - c0);
            }
        });
    }

    /** Start of part s of [0, n) split into {@code parts} nearly equal parts (n for s = parts). */
    private static int part(int n, int s, int parts) {
        return (int) ((long) n * s / parts);
    }

    /**
     * Orders active[0 .. used) by rows, most first (ties by index): the threads take experts from a shared counter, so
     * the small ones come last and fill in while the other thread finishes (longest processing time first). Only the
     * order the experts are computed in changes; their outputs and the weighted sum do not.
     */
    private void largestFirst(int used) {
        for (int i = 1; i < used; i++) {        // insertion sort: at most E entries, nothing allocated
            int e = active[i], n = start[e + 1] - start[e], j = i - 1;
            while (j >= 0 && start[active[j] + 1] - start[active[j]] < n) {
                active[j + 1] = active[j];
                j--;
            }
            active[j + 1] = e;
        }
    }

    /** Whether the last {@link #run} ran its experts concurrently (for tests). */
    boolean lastConcurrent() {
        return lastConcurrent;
    }

    /** The experts of the last concurrent call in the order they were handed out (for tests). */
    int[] concurrentOrder() {
        return Arrays.copyOf(active, lastUsed);
    }

    /** The concurrent path's gather buffer, null before its first use (for tests). */
    RowBuffer allGathered() {
        return allIn;
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
