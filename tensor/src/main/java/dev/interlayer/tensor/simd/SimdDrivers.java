package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.kernel.Rows;
import java.lang.foreign.MemorySegment;

/**
 * Shared drivers of the {@link SimdKernels} job classes: splitting work over {@link ComputePool} when it
 * pays, the allocation-free array views used on the decode path, and the element-wise row walker.
 */
final class SimdDrivers {
    private SimdDrivers() {
    }

    /** Elements per tile of element-wise ops (bounds scratch rows for huge flat tensors). */
    static final int TILE = 1 << 14;
    /**
     * Minimum estimated work (element-operations, transcendental ~16-24 each) before an op is split over
     * threads. Conservative: on the 2-core build machine a [16, 4096] rmsNorm or add ran no faster split,
     * while SiLU over [16, 11008] and attention-sized softmax did.
     */
    static final long PARALLEL_MIN_WORK = 1L << 21;


    @FunctionalInterface
    interface RangeBody {
        void run(long lo, long hi);
    }

    @FunctionalInterface
    interface TileOp {
        void apply(RowCursor[] in, RowCursor out, int len);
    }

    // Runs body over [0, count), split into ComputePool chunks when the work clearly pays for it.
    static void forRange(long count, long work, RangeBody body) {
        int threads = ComputePool.threads();
        if (count <= 1 || threads == 1 || work < PARALLEL_MIN_WORK) {
            body.run(0, count);
            return;
        }
        int chunks = (int) Math.min(count, threads * 4L);
        ComputePool.parallelFor(chunks, c -> body.run(count * c / chunks, count * (c + 1) / chunks));
    }

    static int width(Tensor t) {
        return t.rank() == 0 ? 1 : t.dim(-1);
    }

    // ---- allocation-free fast paths (decode) ----
    // Contiguous F32 heap tensors too small to split over threads are handed to the array loops
    // directly: no cursors, lambdas or scratch rows, so a decode step allocates nothing here.

    /** Per-thread scratch for a norm weight row read from a mapped (non-heap) tensor. */
    static final ThreadLocal<float[][]> WEIGHT_SCRATCH = ThreadLocal.withInitial(() -> new float[1][]);
    /** Per-thread scratch rows for {@link #rowArray}: slot 0/1 layerNorm weight/bias, slot 2 a binary operand. */
    static final ThreadLocal<float[][]> ROW_SCRATCH = ThreadLocal.withInitial(() -> new float[3][]);

    /**
     * The first n elements of a contiguous F32 tensor as an array: its heap array (at
     * {@link #rowArrayOffset}) or, for mapped/native memory, a bulk copy into per-thread scratch slot
     * {@code slot} (offset 0). Null when t is not contiguous F32 (callers take the general path).
     */
    static float[] rowArray(Tensor t, int n, int slot) {
        float[] d = direct(t);
        if (d != null) {
            return d;
        }
        if (t.dtype() != DType.F32 || !t.isContiguous()) {
            return null;
        }
        float[][] holder = ROW_SCRATCH.get();
        if (holder[slot] == null || holder[slot].length < n) {
            holder[slot] = new float[n];
        }
        MemorySegment.copy(t.segment(), Tensor.F32, t.byteOffset(), holder[slot], 0, n);
        return holder[slot];
    }

    static int rowArrayOffset(Tensor t) {
        return direct(t) != null ? GemmKernel.heapIndex(t) : 0;
    }

    // The backing float[] when t is F32, contiguous and on the (writable) heap, else null.
    static float[] direct(Tensor t) {
        return t.dtype() == DType.F32 && t.isContiguous() && t.segment().address() % 4 == 0 ? t.heapFloats() : null;
    }

    static boolean sequential(long count, long work) {
        return count <= 1 || ComputePool.threads() == 1 || work < PARALLEL_MIN_WORK;
    }

    /**
     * Element-wise driver: ins already have out's shape (expanded views allowed). When every tensor is
     * contiguous they are walked as one flat row; otherwise row by row. readOut loads out first (axpy).
     */
    static void elementwise(Tensor out, Tensor[] ins, boolean readOut, int costPerElement, TileOp op) {
        elementwise(out, ins, readOut, costPerElement, op, false);
    }

    /**
     * As above; {@code byRow} walks row by row even when everything is contiguous, so that where an element
     * falls (vector body or scalar tail of its tile) depends on its column only, not on the row count: for
     * functions whose vector and scalar forms round differently (exp, tanh), a row then gives the same values
     * alone as inside a batch.
     */
    static void elementwise(Tensor out, Tensor[] ins, boolean readOut, int costPerElement, TileOp op,
                            boolean byRow) {
        long n = out.size();
        if (n == 0) {
            return;
        }
        boolean flat = !byRow && out.isContiguous() && n <= Integer.MAX_VALUE - 8;
        for (Tensor in : ins) {
            flat &= in.isContiguous();
        }
        Tensor o = flat ? out.reshape((int) n) : out;
        Tensor[] xs = new Tensor[ins.length];
        for (int i = 0; i < ins.length; i++) {
            xs[i] = flat ? ins[i].reshape((int) n) : ins[i];
        }
        int d = width(o);
        long rowCount = Rows.rowCount(o);
        int tilesPerRow = (d + TILE - 1) / TILE;
        forRange(rowCount * tilesPerRow, n * costPerElement, (lo, hi) -> {
            RowCursor oc = new RowCursor(o);
            RowCursor[] ics = new RowCursor[xs.length];
            for (int i = 0; i < xs.length; i++) {
                ics[i] = new RowCursor(xs[i]);
            }
            for (long k = lo; k < hi; k++) {
                long r = k / tilesPerRow;
                int start = (int) (k % tilesPerRow) * TILE;
                int len = Math.min(TILE, d - start);
                for (RowCursor c : ics) {
                    c.read(r, start, len);
                }
                if (readOut) {
                    oc.read(r, start, len);
                } else {
                    oc.beginWrite(r, start, len);
                }
                op.apply(ics, oc, len);
                oc.endWrite(r, start, len);
            }
        });
    }
}
