package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.RowChunks;
import dev.interlayer.tensor.ThreadSlot;
import java.lang.foreign.MemorySegment;

/**
 * Products of F32 activations with block-quantized weights read in place:
 * {@code C[i, j] = Σ_p A[i, p] · dequant(W)[j, p]} with W [n, k] stored row after row as GGML blocks
 * (a linear layer's weight). m = 1 is the decode matrix-vector product; small m the prefill chunks.
 *
 * <p>The weight rows are split over {@link ComputePool} in chunks of whole 4-row tiles (a few chunks
 * per thread so a slow core does not hold the rest up); each chunk runs {@link QuantRows}: the Vector
 * API kernels ({@code quant.vector.QuantVectorRows}) when the incubator module is present and
 * {@code dev.interlayer.simd.bits} is not 0, else the scalar oracle. Nothing is allocated per call
 * once each thread has its task object and scratch rows.
 */
public final class QuantMatMul {
    /** Below this many flops a product runs on the calling thread (a fork costs more). */
    static final long PARALLEL_MIN_FLOPS = 1L << 18;
    /** The kernels chosen for this JVM. */
    public static final QuantRows ACTIVE = select();

    private QuantMatMul() {
    }

    private static QuantRows select() {
        String bits = System.getProperty("dev.interlayer.simd.bits");
        boolean scalar = bits != null && bits.trim().equals("0");
        if (scalar || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return QuantRows.SCALAR;
        }
        try {
            return (QuantRows) Class.forName("dev.interlayer.tensor.quant.vector.QuantVectorRows")
                    .getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            System.getLogger("dev.interlayer.tensor")
                    .log(System.Logger.Level.WARNING, "SIMD quantized kernels unavailable (" + e + "); using scalar");
            return QuantRows.SCALAR;
        }
    }

    /** As the method below, with the kernels chosen for this JVM ({@link #ACTIVE}). */
    public static void matmulT(BlockFormat f, int m, int n, int k, float[] a, int aOff, int lda, MemorySegment w,
                               long wOff, float[] c, int cOff, int ldc) {
        matmulT(ACTIVE, f, m, n, k, a, aOff, lda, w, wOff, c, cOff, ldc);
    }

    /**
     * {@code c[cOff + i·ldc + j] = Σ_p a[aOff + i·lda + p]·W[j, p]} for i &lt; m, j &lt; n, with W's n rows of k
     * values (whole blocks of f) stored contiguously from byte {@code wOff} of {@code w}.
     *
     * @throws IllegalArgumentException if k is not a whole number of blocks
     */
    public static void matmulT(QuantRows kernel, BlockFormat f, int m, int n, int k, float[] a, int aOff, int lda,
                               MemorySegment w, long wOff, float[] c, int cOff, int ldc) {
        long rowBytes = f.rowBytes(k);
        if (m == 0 || n == 0) {
            return;
        }
        int threads = 2L * m * n * k < PARALLEL_MIN_FLOPS ? 1 : ComputePool.threads();
        if (kernel.product(f, m, n, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, threads)) {
            return;
        }
        split(kernel, 4, f, m, n, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, threads);
    }

    /**
     * Runs {@code kernel.rows} over the weight rows [0, n) split over up to {@code threads} pool threads in chunks of
     * whole {@code tile}-row tiles (a few chunks per thread so a slow core does not hold the rest up); on this thread
     * when there is one chunk. Internal to the kernels: public for the vector kernels' prefill path, which prepares
     * its activations once and then passes a {@link QuantRows} over them.
     */
    public static void split(QuantRows kernel, int tile, BlockFormat f, int m, int n, int k, float[] a, int aOff,
                             int lda, MemorySegment w, long wOff, long rowBytes, float[] c, int cOff, int ldc,
                             int threads) {
        int tiles = (n + tile - 1) / tile;
        int chunks = Math.min(tiles, threads == 1 ? 1 : threads * 4);
        if (chunks <= 1) {
            kernel.rows(f, m, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, 0, n);
            return;
        }
        Task t = RowChunks.lease(Task.SLOT, Task::new);
        t.kernel = kernel;
        t.f = f;
        t.activations(m, a, aOff, lda).weights(w, wOff, rowBytes).output(c, cOff, ldc)
                .run(Task.SLOT, n, k, tile, tiles, chunks);
    }

    /** A chunk: weight rows of whole tiles through the kernel. */
    private static final class Task extends RowChunks {
        private static final ThreadSlot<Task> SLOT = new ThreadSlot<>();
        private QuantRows kernel;
        private BlockFormat f;

        @Override
        public void accept(int ch) {
            kernel.rows(f, m, k, a, aOff, lda, w, wOff, wStride, c, cOff, ldc, from(ch), to(ch));
        }
    }
}
