package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.RowChunks;
import dev.interlayer.tensor.ThreadSlot;
import java.lang.foreign.MemorySegment;

/**
 * Several decode products that share one activation row, {@code c_i[j] = Σ_p x[p]·dequant(W_i)[j, p]} for each
 * block-quantized W_i [n_i, k] (a layer's q/k/v projections, its gate and up projections), in <b>one</b> parallel
 * region: the chunks of every W_i go to {@link ComputePool} together, instead of one fork and join per product. At
 * two threads a Llama layer then hands work over four times instead of seven; the small k and v products (a quarter
 * of q's rows each on the 1B model) no longer wait alone for the second thread.
 *
 * <p>Each output is computed by the same {@code QuantRows.rows} call on a range of whole 4-row tiles, as
 * {@link QuantMatMul#matmulT} computes it; the decode tiles give every row the same sequence of operations whatever
 * range it is in (tile rows and rows left over agree bit for bit: {@code QuantRowsIdentityTest}), so the outputs
 * equal those of separate products bit for bit. Off by default ({@link #FUSED}):
 * {@code -Ddev.interlayer.quant.fusedMatvecs=true} routes {@code Ops.matmulT(x, ws[], outs[])} here.
 *
 * <p>Use: {@link #lease}, {@link #add} up to {@link #MAX} products, {@link #run}. The object is per thread and
 * reused: nothing is allocated per call once each thread has one.
 */
public final class QuantMatVecs extends RowChunks {
    /**
     * {@code dev.interlayer.quant.fusedMatvecs} (default false: not shown faster). End to end on the 1B Q4_0 file at
     * two threads (2026-12-07, load 2-15 on 2 shared cores) fused ÷ separate ranged 0.75-1.24 per pair, and in
     * {@code FusedMatVecsProbe} the per-pair median was 1.00-1.03; with the second core busy elsewhere it tended
     * below 1, plausibly because the group cuts fewer, larger chunks (about four per thread over all its rows,
     * where separate products cut four per thread each) and balances worse when a worker is descheduled.
     */
    public static final boolean FUSED =
            Boolean.parseBoolean(System.getProperty("dev.interlayer.quant.fusedMatvecs", "false"));
    /** Products per group. */
    public static final int MAX = 4;
    private static final int TILE = 4;
    private static final ThreadSlot<QuantMatVecs> SLOT = new ThreadSlot<>();

    /** One product of the group: n rows of format f at w[wOff..] into c[cOff, cOff + n). Reused, never reallocated. */
    private static final class Product {
        BlockFormat f;
        int n;
        MemorySegment w;
        long wOff;
        float[] c;
        int cOff;

        void into(float[] out, int outOff) {
            c = out;
            cOff = outOff;
        }
    }

    private final Product[] products = new Product[MAX];
    /** Product i's chunks are [first[i], first[i + 1]). */
    private final int[] first = new int[MAX + 1];
    private int count;
    private QuantRows kernel = QuantMatMul.ACTIVE;

    private QuantMatVecs() {
        for (int i = 0; i < MAX; i++) {
            products[i] = new Product();
        }
    }

    /** This thread's group object, empty. */
    public static QuantMatVecs lease() {
        QuantMatVecs g = RowChunks.lease(SLOT, QuantMatVecs::new);
        g.count = 0;
        g.kernel = QuantMatMul.ACTIVE;
        return g;
    }

    /** The kernels to run (tests); {@link QuantMatMul#ACTIVE} unless set. */
    QuantMatVecs kernel(QuantRows kernel) {
        this.kernel = kernel;
        return this;
    }

    /**
     * Adds {@code c[cOff + j] = Σ_p x[p]·W[j, p]} for j &lt; n, W's n rows of whole blocks of f stored contiguously
     * from byte wOff of w.
     *
     * @throws IllegalStateException when the group already holds {@link #MAX} products
     */
    public QuantMatVecs add(BlockFormat f, int n, MemorySegment w, long wOff, float[] c, int cOff) {
        if (count == MAX) {
            throw new IllegalStateException("QuantMatVecs: more than " + MAX + " products");
        }
        Product p = products[count++];
        p.f = f;
        p.n = n;
        p.w = w;
        p.wOff = wOff;
        p.into(c, cOff);
        return this;
    }

    /**
     * Runs the products added, with the activation row {@code x[xOff, xOff + k)}, on up to
     * {@link ComputePool#threads()} threads; then gives this object back.
     *
     * @throws IllegalArgumentException if k is not a whole number of blocks of some product's format
     */
    public void run(int k, float[] x, int xOff) {
        long rows = 0;
        for (int i = 0; i < count; i++) {
            products[i].f.rowBytes(k);                  // checks k
            rows += products[i].n;
        }
        int threads = 2L * rows * k < QuantMatMul.PARALLEL_MIN_FLOPS ? 1 : ComputePool.threads();
        // as QuantMatMul.split: about four chunks per thread over all rows, each product's share by its rows
        int target = threads == 1 ? 0 : threads * 4;
        first[0] = 0;
        for (int i = 0; i < count; i++) {
            int tiles = (products[i].n + TILE - 1) / TILE;
            int chunks = threads == 1 || tiles == 0 ? Math.min(1, tiles)
                    : (int) Math.min(tiles, Math.max(1, (target * (long) products[i].n + rows - 1) / rows));
            first[i + 1] = first[i] + chunks;
        }
        activations(1, x, xOff, k).run(SLOT, (int) Math.min(Integer.MAX_VALUE, rows), k, TILE, first[count],
                first[count]);
    }

    @Override
    public void accept(int ch) {
        int i = 0;
        while (ch >= first[i + 1]) {
            i++;
        }
        Product p = products[i];
        int chunks = first[i + 1] - first[i], part = ch - first[i], n = p.n;
        int tiles = (n + TILE - 1) / TILE;
        int j0 = (int) ((long) tiles * part / chunks) * TILE;
        int j1 = Math.min(n, (int) ((long) tiles * (part + 1) / chunks) * TILE);
        kernel.rows(p.f, 1, k, a, aOff, lda, p.w, p.wOff, p.f.rowBytes(k), p.c, p.cOff, n, j0, j1);
    }

    @Override
    protected void clear() {
        for (Product p : products) {
            p.w = null;
            p.c = null;
        }
        count = 0;
    }
}
