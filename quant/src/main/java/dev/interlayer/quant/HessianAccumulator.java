package dev.interlayer.quant;

import dev.interlayer.tensor.ComputePool;

/**
 * Accumulates the layer Hessian of GPTQ (Frantar et al., "GPTQ", ICLR 2023), {@code H = (2/N)·Σ_t x_t x_tᵀ},
 * over streamed activation rows, in float64. It keeps the raw sum {@code Σ x xᵀ} and the token count and
 * scales on {@link #hessian()}, which equals GPTQ's running average {@code H ← H·n/(n+m) + (2/(n+m))·BᵀB}
 * (the quantizers are invariant to a positive factor on H anyway). Rows marked as padding are skipped.
 * Not thread-safe: one accumulator per layer, fed by one thread.
 */
public final class HessianAccumulator {
    private static final int TILE = 256;         // tokens per rank-k update (fewer, larger parallel products)
    private static final int ROWS = 16;          // rows of H per band of the update

    private final int d;
    private final double[] sum;                  // [d, d], blocks on and above the diagonal accumulated
    private final double[] tile;                 // [TILE, d] the current tokens, widened to float64 (exactly)
    private long count;
    private int pending;                         // tokens in the tile not yet added to sum (short inputs fill it)

    /** An empty accumulator for inputs of width {@code dIn}. */
    public HessianAccumulator(int dIn) {
        if (dIn < 1) {
            throw new IllegalArgumentException("HessianAccumulator: dIn must be >= 1, got " + dIn);
        }
        this.d = dIn;
        this.sum = new double[dIn * dIn];
        this.tile = new double[TILE * dIn];
    }

    /** Input width. */
    public int dIn() {
        return d;
    }

    /** Number of rows accumulated (padding excluded). */
    public long count() {
        return count + pending;
    }

    /**
     * Adds rows {@code x[n, dIn]}, skipping {@code t} where {@code keep != null && !keep[t]}.
     *
     * @throws IllegalArgumentException if {@code x} is shorter than {@code n·dIn} or {@code keep} shorter than n
     */
    public void accept(float[] x, int n, boolean[] keep) {
        if (n < 0 || x.length < (long) n * d || (keep != null && keep.length < n)) {
            throw new IllegalArgumentException("HessianAccumulator.accept: need x[" + n + ", " + d + "] and keep[" + n
                    + "]; got " + x.length + " values and " + (keep == null ? "no mask" : keep.length + " flags"));
        }
        int m = pending;
        for (int t = 0; t < n; t++) {
            if (keep != null && !keep[t]) {
                continue;
            }
            for (int i = 0; i < d; i++) {
                tile[m * d + i] = x[t * d + i];
            }
            if (++m == TILE) {
                flush(m);
                m = 0;
            }
        }
        pending = m;     // flushed when the tile fills or the sum is read: one sequence at a time stays fast
    }

    // sum[i, j] += Σ_t tile[t, i]·tile[t, j] as a product Tᵀ·T (float32 inputs widen exactly, so every product is
    // exact and only the float64 sums round); each thread takes row bands of ROWS and computes the columns from the
    // band's first row on (the blocks on and above the diagonal), bands dealt out by equal triangle area.
    private void flush(int m) {
        int bands = (d + ROWS - 1) / ROWS;
        int chunks = Math.min(bands, 4 * ComputePool.threads());
        ComputePool.parallelFor(chunks, ch -> {
            int lo = triangleSplit(ch, chunks, bands), hi = triangleSplit(ch + 1, chunks, bands);
            for (int band = lo; band < hi; band++) {
                int i0 = band * ROWS, rows = Math.min(ROWS, d - i0);
                DoubleGemm.multiplyAdd(rows, d - i0, m, 1.0, tile, i0, 1, d, tile, i0, d, sum, i0 * d + i0, d);
            }
        });
        count += m;
    }

    // First band of chunk c when band i carries work (bands − i): equal areas of the upper triangle.
    private static int triangleSplit(int c, int chunks, int bands) {
        if (c >= chunks) {
            return bands;
        }
        double f = 1.0 - Math.sqrt(1.0 - (double) c / chunks);
        return (int) Math.round(f * bands);
    }

    /** The raw sum {@code Σ x xᵀ} [dIn, dIn], symmetric, as a new array. */
    public double[] sumOfOuterProducts() {
        if (pending > 0) {
            flush(pending);
            pending = 0;
        }
        double[] s = new double[d * d];
        for (int i = 0; i < d; i++) {                // bands hold their diagonal blocks whole: mirror the upper part
            for (int j = i; j < d; j++) {
                s[i * d + j] = sum[i * d + j];
                s[j * d + i] = sum[i * d + j];
            }
        }
        return s;
    }

    /**
     * {@code H = (2/N)·Σ x xᵀ} [dIn, dIn] as a new symmetric array (all zeros when no row was accepted).
     */
    public double[] hessian() {
        double[] h = sumOfOuterProducts();
        if (count > 0) {
            double f = 2.0 / count;
            for (int i = 0; i < h.length; i++) {
                h[i] *= f;
            }
        }
        return h;
    }
}
