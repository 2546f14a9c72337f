package dev.interlayer.tensor.quant.vector;

import dev.interlayer.tensor.ThreadSlot;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.QuantMatMul;
import dev.interlayer.tensor.quant.QuantRows;
import dev.interlayer.tensor.simd.ActivationPanels;
import dev.interlayer.tensor.simd.RegisterTile;
import java.lang.foreign.MemorySegment;

/**
 * Quantized products with more activation rows than {@code GemmKernel.ROW_EXACT_MAX} (prefill chunks):
 * {@code C[i, j] = Σ_p A[i, p]·dequant(W)[j, p]}, computed for speed, not to match the decode kernels bit for
 * bit (only batched decode, m ≤ 16, needs that; a 128-token prompt chunk does not).
 *
 * <p>The layout of {@code simd.GemmWeightStream} (the F32/BF16 weights' prefill path): the transposed product
 * Cᵀ = W·Aᵀ, weights the broadcast operand and activations the vector operand. The activations are packed once
 * per product, on the calling thread, as token panels {@code xp[(q·k + p)·NR + t] = A[q·NR + t, p]} (rows past
 * m zero); then per step of {@link #KC} values of k and group of {@link #MR} weight rows, the group is
 * dequantized once into a per-thread buffer [MR][kc] ({@link QuantDecode}, 96 KB at kc = 2048, in L2) and the
 * register tile runs over every token panel: MR = 12 weight rows × NR = 2 vectors of tokens, 24 FMA
 * accumulators, per k step two vector loads and twelve broadcasts, no horizontal sums (the weight stream's own
 * micro-kernel and store, through {@link RegisterTile}). Each weight block is
 * decoded once per product (per k step) and used by every activation row.
 *
 * <p>This replaced a dot-product layout (panels of 16 dequantized rows, a 4 × 4 tile of 16 accumulators over
 * 512 values of k, then 16 horizontal sums per tile): Q4_K 58–64 and Q6_K 60–69 GFLOP/s against 86–116 and
 * 84–101 now (m = 128, 1 thread, {@code QuantKernelProbe}, BENCHMARKS.md "quantized prefill/decode"), about what
 * the BF16 weights get from {@code GemmWeightStream}.
 */
final class QuantPrefill {
    /** Weight rows per register tile. */
    static final int MR = RegisterTile.ROWS;
    /** Tokens per register tile (two vectors). */
    static final int NR = RegisterTile.TOKENS;
    /** Most values of k per step (rounded to the format's block): the activation block, kc·NR floats a panel. */
    static final int KC = Math.max(256, Integer.getInteger("dev.interlayer.quant.kc", 2048));

    /** The packed activations, leased by the calling thread for the whole call. */
    private static final ThreadSlot<float[]> PACKED = new ThreadSlot<>();
    /** One thread's dequantized weight group [MR][kc]. */
    private static final ThreadSlot<float[]> GROUP = new ThreadSlot<>();
    /** One thread's output tile ({@link RegisterTile#SIZE}). */
    private static final ThreadSlot<float[]> TILE = new ThreadSlot<>();

    /** {@code dev.interlayer.kquant.prefill.touch} (default true): see {@link #touch}. */
    static final boolean TOUCH =
            Boolean.parseBoolean(System.getProperty("dev.interlayer.kquant.prefill.touch", "true"));

    private QuantPrefill() {
    }

    /**
     * The whole product, groups of MR weight rows spread over {@code threads} threads of the pool by
     * {@link QuantMatMul#split} (the activations packed first, once, on this thread). As {@code QuantRows.rows} for
     * every j &lt; n.
     */
    static void product(BlockFormat f, int m, int n, int k, float[] a, int aOff, int lda, MemorySegment w,
                        long wOff, long rowBytes, float[] c, int cOff, int ldc, int threads) {
        float[] xp = pack(m, k, a, aOff, lda);
        Packed p = Packed.SLOT.lease();
        if (p == null) {
            p = new Packed();
        }
        try {
            p.xp = xp;
            QuantMatMul.split(p, MR, f, m, n, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, threads);
        } finally {
            p.xp = null;                       // do not keep the buffer reachable from two slots
            Packed.SLOT.release(p);
            PACKED.release(xp);
        }
    }

    /** As {@code QuantRows.rows} (weight rows [j0, j1)) on this thread. */
    static void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        float[] xp = pack(m, k, a, aOff, lda);
        try {
            groups(f, m, k, xp, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
        } finally {
            PACKED.release(xp);
        }
    }

    /** The leased packing buffer holding A's rows as token panels (see the class comment). */
    private static float[] pack(int m, int k, float[] a, int aOff, int lda) {
        int panels = (m + NR - 1) / NR;
        long need = (long) panels * NR * k;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("quantized prefill of " + m + " rows of k = " + k
                    + ": the packed activations exceed 2^31 floats; use fewer rows per call");
        }
        float[] xp = PACKED.lease();
        if (xp == null || xp.length < need) {
            xp = new float[(int) need];
        }
        for (int q = 0; q < panels; q++) {           // the weight stream's panel layout, so its packing routine
            ActivationPanels.pack(xp, q * k * NR, NR, k, a, aOff + q * NR * lda, lda, Math.min(NR, m - q * NR));
        }
        return xp;
    }

    /** Weight rows [j0, j1): per step of k, each group of MR rows dequantized once and run over every token panel. */
    private static void groups(BlockFormat f, int m, int k, float[] xp, MemorySegment w, long wOff, long rowBytes,
                               float[] c, int cOff, int ldc, int j0, int j1) {
        int bs = f.blockSize();
        int kSteps = (k + KC - 1) / KC;
        int kcMax = ((k + kSteps - 1) / kSteps + bs - 1) / bs * bs;     // equal steps, whole blocks
        float[] buf = GROUP.lease();
        if (buf == null || buf.length < MR * kcMax) {
            buf = new float[MR * kcMax];
        }
        float[] tile = TILE.lease();
        if (tile == null) {
            tile = new float[RegisterTile.SIZE];
        }
        boolean native_ = QSpecies.NATIVE.isInstance(w);
        boolean touch = TOUCH && native_ && bs == 256;             // K-quants (see touch)
        int panels = (m + NR - 1) / NR, touched = 0;
        try {
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                long bo = f.rowBytes(pc);
                for (int j = j0; j < j1; j += MR) {
                    int rows = Math.min(MR, j1 - j);
                    for (int r = 0; r < MR; r++) {
                        if (r >= rows) {
                            java.util.Arrays.fill(buf, r * kc, (r + 1) * kc, 0f);
                        } else if (native_) {
                            QuantDecode.row(f, w, wOff + (j + r) * rowBytes + bo, kc, buf, r * kc);
                        } else {                                   // heap weights (tests, fresh quantization)
                            f.dequantizeRow(w, wOff + (j + r) * rowBytes + bo, kc, buf, r * kc);
                        }
                    }
                    int next = touch ? Math.min(MR, j1 - j - MR) : 0;   // rows of the next group
                    for (int q = 0; q < panels; q++) {
                        if (next > 0) {                            // a share of them before each panel
                            touched += touch(w, wOff + (j + MR) * rowBytes + bo, rowBytes, f.rowBytes(kc),
                                    next * q / panels, next * (q + 1) / panels);
                        }
                        RegisterTile.multiply(kc, buf, xp, (q * k + pc) * NR, tile);
                        RegisterTile.store(tile, rows, Math.min(NR, m - q * NR), c, cOff + q * NR * ldc + j, ldc,
                                pc > 0);
                    }
                }
            }
            if (touched == Integer.MIN_VALUE) {
                sink = touched;
            }
        } finally {
            GROUP.release(buf);
            TILE.release(tile);
        }
    }

    /** Written only when the touched bytes add up to an impossible sum: keeps the loads. */
    private static int sink;

    /**
     * Reads one byte per 64-byte line of rows [r0, r1) ({@code bytes} each from {@code off}, rowBytes apart): the
     * K-quant prefill touches the next group's weight rows, a share before each token panel of this group, so that
     * their lines are on their way from memory while the register tile runs and the next group's dequantization
     * reads them from cache (Java has no prefetch instruction). Measured end to end on the 1B Q4_K_M file (JFR
     * samples, which the machine's load does not skew): dequantization, touches included, went from 0.20-0.22 to
     * 0.17-0.18 of the register tile's time. Only for the K-quants: the block-32 formats were not measured.
     */
    private static int touch(MemorySegment seg, long off, long rowBytes, long bytes, int r0, int r1) {
        MemorySegment w = (MemorySegment) QSpecies.NATIVE.cast(seg);   // off-heap only: see QSpecies.NATIVE
        int s = 0;
        for (int r = r0; r < r1; r++) {
            long o = off + r * rowBytes;
            for (long b = 0; b < bytes; b += 64) {
                s += w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, o + b);
            }
        }
        return s;
    }

    /** One thread's share of the rows over activations already packed ({@code a} unused); reused per calling thread. */
    private static final class Packed implements QuantRows {
        static final ThreadSlot<Packed> SLOT = new ThreadSlot<>();
        float[] xp;

        @Override
        public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                         long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
            groups(f, m, k, xp, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
        }

        @Override
        public String name() {
            return "packed-prefill";
        }
    }
}
