package dev.interlayer.tensor;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * A parallel loop over the weight rows [0, n) of a product {@code C[i, j] = Σ_p A[i, p]·W[j, p]}, split over
 * {@link ComputePool} in chunks of whole tiles of rows (a few chunks per thread so a slow core does not hold the rest
 * up). A subclass computes chunk ch, rows [{@link #from}(ch), {@link #to}(ch)), in {@code accept(ch)}. It is a
 * reusable per-thread object ({@link ThreadSlot}) rather than a capturing lambda: the kernels run about a hundred of
 * these loops per decoded token and allocate nothing.
 *
 * <p>Internal to the kernels; public only because they live in several packages.
 */
public abstract class RowChunks implements IntConsumer {
    /** A: m rows of k values from {@code a[aOff]}, lda apart. */
    protected int m, k, aOff, lda;
    /** A's and C's arrays. */
    protected float[] a, c;
    /** C: {@code c[cOff + i·ldc + j]}. */
    protected int cOff, ldc;
    /** W: its rows from {@code wOff} of w, wStride apart (bytes or elements, as the subclass reads them). */
    protected MemorySegment w;
    /** W's first row and the distance between rows. */
    protected long wOff, wStride;
    private int n, tile, tiles, chunks;

    protected RowChunks() {
    }

    /** The thread's free object of slot, or a new one from {@code fresh} (a constructor reference: not allocated). */
    public static <T extends RowChunks> T lease(ThreadSlot<T> slot, Supplier<T> fresh) {
        T t = slot.lease();
        return t != null ? t : fresh.get();
    }

    /** Sets A's m rows for {@link #run} (their length k is the product's: given there). */
    public final RowChunks activations(int m, float[] a, int aOff, int lda) {
        this.m = m;
        this.a = a;
        this.aOff = aOff;
        this.lda = lda;
        return this;
    }

    /** Sets W for {@link #run}. */
    public final RowChunks weights(MemorySegment w, long wOff, long wStride) {
        this.w = w;
        this.wOff = wOff;
        this.wStride = wStride;
        return this;
    }

    /** Sets C for {@link #run}. */
    public final RowChunks output(float[] c, int cOff, int ldc) {
        this.c = c;
        this.cOff = cOff;
        this.ldc = ldc;
        return this;
    }

    /**
     * Runs {@code accept} over W's rows [0, n), of k values each, in {@code chunks} chunks of whole {@code tile}-row
     * tiles (tiles of them in all), then drops the references to the caller's arrays and weights and gives this
     * object back to slot, the slot it was leased from.
     */
    @SuppressWarnings("unchecked")
    public final <T extends RowChunks> void run(ThreadSlot<T> slot, int n, int k, int tile, int tiles, int chunks) {
        this.n = n;
        this.k = k;
        this.tile = tile;
        this.tiles = tiles;
        this.chunks = chunks;
        try {
            ComputePool.parallelFor(chunks, this);
        } finally {
            a = c = null;
            w = null;
            clear();
            slot.release((T) this);
        }
    }

    /** Drops what a subclass holds of the caller's (run after the loop). */
    protected void clear() {
    }

    // Each subclass writes its own accept(ch) over [from(ch), to(ch)): a shared accept calling an abstract method
    // would be one call site for every kernel's chunk body, megamorphic, and the kernel would no longer be inlined
    // into its chunk body.

    /** The first row of chunk ch: a whole number of tiles. */
    protected final int from(int ch) {
        return (int) ((long) tiles * ch / chunks) * tile;
    }

    /** The end of chunk ch's rows (exclusive): a whole number of tiles, or n. */
    protected final int to(int ch) {
        return Math.min(n, (int) ((long) tiles * (ch + 1) / chunks) * tile);
    }
}
