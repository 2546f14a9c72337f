package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.roundUp;
import static dev.interlayer.tensor.simd.GemmWeightStream.MR;
import static dev.interlayer.tensor.simd.GemmWeightStream.NR;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link GemmWeightStream}'s micro-kernels for F32 weights read in place, each weight broadcast straight from the
 * weight segment: tile[r*NR + t] = Σ_p W[row_r, p]·xp[xi + p*NR + t] for 12 weight rows × NR = 2 vectors of tokens
 * ({@link #micro2}), and an 8-row × 3-vector form ({@link #micro3}) for a block whose last panel would otherwise be
 * mostly padding. row_r = min(r, rows − 1): a short last group repeats its last row, whose results are not stored.
 * Each (row, token) sum runs over p in order, as in the widened kernels.
 *
 * <p>Why: widening 12 weight rows to F32 into a buffer and broadcasting from there stores every weight once and
 * reads it back from L2 (the 96 KB buffer does not fit L1); F32 weights need no widening, and read in place
 * they stream once from DRAM into the broadcasts. Per call, 64 different F32 weights, 1 thread, thread CPU time,
 * same machine one after the other (load 10–13): m = 32 over 1024×2048 71–75 → 95–110 GFLOP/s, m = 64 76–87 →
 * 96–110, m = 128 86–94 → 101–110, m = 256 90–93 → 101–111. The 3-vector panel: 44 rows 67–75 → 80–99 (was a
 * 32-token panel and a 12-row dot-product tail). The MoE layer of {@code MoePrefillTiming} (64 experts of 21–42
 * rows): 74 → 99 GFLOP/s.
 *
 * <p>The written-out kernels {@link #micro2Any} and {@link #micro3} are generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmDirectKernelUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmDirectKernelUnrolled}.
 */
final class GemmDirectKernel extends GemmDirectKernelUnrolled {
    /** Weight rows and tokens of the three-vector kernel. */
    static final int MR3 = 8, NR3 = 3 * VL;
    /**
     * Whether 12-row groups of a common row stride take a copy of {@link #micro2Any} with the stride a literal
     * ({@code -Ddev.interlayer.gemm.ws.strides=true}). Off by default: alone the copies ran 1–10% faster than
     * micro2Any (one JVM, alternating, a hot 12-row group), but in the whole GEMM (1024³, 2048³, 128/512 × 2048 ×
     * 8192 and × 8192 × 2048, 1 thread, CPU time) 36 interleaved on/off pairs gave a median of 0.99× (0.82–1.16×,
     * load 7–16), so no gain was shown where it counts.
     */
    static final boolean STRIDES = Boolean.getBoolean("dev.interlayer.gemm.ws.strides");
    /**
     * Whether 12-row groups run as two 6-row halves ({@link #micro2Half}) and 8-row groups as two 4-row halves
     * ({@link #micro3Half}), each within C2's parse-time inlining budget, so that they compile to the same code in
     * any JVM; same results bit for bit ({@code -Ddev.interlayer.gemm.ws.compact=true}). Off by default: each half
     * streams the token panel from L2 again (twice the panel traffic per FMA), and the whole GEMM ran 15–30% slower
     * (1 thread, CPU time, interleaved, load 7–8: 1024³ 110 against 130 GFLOP/s, 2048³ 92 against 122, 128 × 2048 ×
     * 2048 91 against 131). The written-out {@link #micro2Any} and {@link #micro3} parse past that budget (~30 000
     * nodes): in a JVM whose Vector API profiles other code has polluted, their late-inlined calls can box vectors.
     */
    static final boolean COMPACT = Boolean.getBoolean("dev.interlayer.gemm.ws.compact");
    /**
     * Whether a span of weight rows whose stride puts the 12 rows of a group into few L1 sets ({@link #aliased}: a row
     * stride that is a multiple of 4 KB, as at k = 1024 or 2048) is first copied into a per-thread native buffer with
     * a row stride of 4 KB + 64 bytes, so that the group's rows fall into 12 different sets
     * ({@code -Ddev.interlayer.gemm.ws.padcopy=true}). Same kernels on the same values: results bit for bit equal.
     * Off by default: an experiment. Why: with a 4-KB row stride the 12 rows of a group need all 12 ways of one set of
     * Zen 5's 48-KB L1 at every k step, and in the periods when something else on the core takes L1 ways (a 32-KB
     * pointer chase in the same thread then takes 2.0–2.9 instead of 1.5 ns per step) 1024³ at 1 thread ran at ~100
     * instead of ~160 GFLOP/s, and k = 1040 in the same minutes at ~136 (1 thread, thread CPU time). In such periods
     * the copy lifted 1024³ by a median ~1.17× (128×2048² ~1.2×), short of k = 1040; outside them it cost ~3%
     * (BENCHMARKS.md §62). Whether that trade pays depends on how often a core's L1 is contended, hence off.
     */
    static final boolean PAD_COPY = Boolean.getBoolean("dev.interlayer.gemm.ws.padcopy");
    /** The padded copy of one span, per thread, grown on demand (never per call once it fits KC). */
    private static final ThreadLocal<MemorySegment[]> SPAN_COPY = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    /** Rows of {@link #micro2Half}. */
    static final int HALF = MR / 2;
    /** Weight rows of one pass over the panels: a multiple of both kernels' groups, hot in L2 for the later panels. */
    private static final int SPAN = 24;

    private GemmDirectKernel() {
    }

    /**
     * Most trailing rows (after at least one whole panel) taken by {@link GemmDirectTail}; more than that, up to VL,
     * extend the last panel to three vectors. Overridable for tuning with {@code dev.interlayer.gemm.ws.directtail}.
     */
    static final int TAIL = Math.max(0, Math.min(NR - 1, Integer.getInteger("dev.interlayer.gemm.ws.directtail", 8)));

    /** Rows of an mc-row block that take the dot-product tail: the last mc mod NR if 1 … TAIL after a whole panel. */
    static int tailRows(int mc) {
        int rem = mc % NR;
        return mc > NR && rem <= TAIL ? rem : 0;
    }

    /**
     * Whether an mc-row block ends in one three-vector panel: its last NR-token panel and the rows after it, when
     * they are too many for the tail and at most VL (which would otherwise pad a whole panel).
     */
    static boolean wideLast(int mc) {
        int rem = mc % NR;
        return mc > NR && rem > TAIL && rem <= VL;
    }

    /** Two-vector panels of an mc-row block (the tokens before the three-vector panel or the tail, if any). */
    static int narrowPanels(int mc) {
        return wideLast(mc) ? mc / NR - 1 : (mc - tailRows(mc) + NR - 1) / NR;
    }

    /**
     * The block's activations as {@link #narrowPanels} NR-token panels then, if {@link #wideLast}, one NR3 panel, or
     * for a tail that {@link GemmKPairTail} takes, its k-pair panel.
     */
    static void pack(float[] xp, int mc, int kc, float[] a, int a0, int lda) {
        int narrow = narrowPanels(mc);
        for (int q = 0; q < narrow; q++) {
            ActivationPanels.pack(xp, q * kc * NR, NR, kc, a, a0 + q * NR * lda, lda, Math.min(NR, mc - q * NR));
        }
        if (wideLast(mc)) {
            ActivationPanels.pack(xp, narrow * kc * NR, NR3, kc, a, a0 + narrow * NR * lda, lda, mc - narrow * NR);
        }
        int tail = tailRows(mc);
        if (GemmKPairTail.takes(tail)) {
            GemmKPairTail.pack(xp, narrow * kc * NR, kc, a, a0 + narrow * NR * lda, lda, tail);
        }
    }

    /**
     * C rows [r0, r1) of one (MC, KC) block (activations A at a0, packed in xp) from F32 weights read in place: per
     * span of 24 weight rows, every panel (12-row groups for NR-token panels, 8-row groups for a last NR3 panel)
     * and the tail (a k-pair panel, {@link GemmKPairTail}, or the dot-product form, {@link GemmDirectTail}); the
     * span's rows stay in L2 for the panels after the first.
     */
    static void groups(int r0, int r1, int kc, int mc, float[] xp, float[] a, int a0, int lda, MemorySegment w,
                       long w0, long ldw, float[] c, int c0, int ldc, boolean accumulate, float[] tile, float[] acc) {
        int narrow = narrowPanels(mc), tail = tailRows(mc);
        boolean wide = wideLast(mc), kpair = GemmKPairTail.takes(tail);
        boolean copy = PAD_COPY && aliased(ldw);
        for (int j = r0; j < r1; j += SPAN) {
            int end = Math.min(r1, j + SPAN);
            // the span's rows, in place (row jj at w0 + jj·ldw) or in the padded copy (row jj at (jj − j)·ld)
            MemorySegment ws = w;
            long ld = ldw, base = w0;
            if (copy) {
                ld = paddedStride(kc);
                ws = spanCopy(w, w0 + j * ldw, ldw, end - j, kc, ld);
                base = -j * ld;
            }
            for (int q = 0; q < narrow; q++) {
                int tokens = Math.min(NR, mc - q * NR);
                for (int jj = j; jj < end; jj += MR) {
                    int rows = Math.min(MR, end - jj);
                    micro2(kc, ws, base + jj * ld, ld, rows, xp, q * kc * NR, tile);
                    GemmWeightStream.store(tile, NR, rows, tokens, c, c0 + q * NR * ldc + jj, ldc, accumulate);
                }
            }
            int t0 = narrow * NR;
            if (wide) {
                for (int jj = j; jj < end; jj += MR3) {
                    int rows = Math.min(MR3, end - jj);
                    wide(kc, ws, base + jj * ld, ld, rows, xp, narrow * kc * NR, tile);
                    GemmWeightStream.store(tile, NR3, rows, mc - t0, c, c0 + t0 * ldc + jj, ldc, accumulate);
                }
            } else if (kpair) {
                for (int jj = j; jj < end; jj += MR) {
                    int rows = Math.min(MR, end - jj);
                    GemmKPairTail.tile(kc, ws, base + jj * ld, ld, rows, xp, narrow * kc * NR, tile, NR);
                    GemmWeightStream.store(tile, NR, rows, tail, c, c0 + t0 * ldc + jj, ldc, accumulate);
                }
            } else if (tail > 0) {
                for (int jj = j; jj < end; jj += MR) {
                    int rows = Math.min(MR, end - jj);
                    GemmDirectTail.tile(kc, ws, base + jj * ld, ld, rows, a, a0 + t0 * lda, lda, tail, tile, NR, acc);
                    GemmWeightStream.store(tile, NR, rows, tail, c, c0 + t0 * ldc + jj, ldc, accumulate);
                }
            }
        }
    }

    /**
     * Whether rows ldw floats apart put 4 or more of a 12-row group into one set of a 64-set L1 (4-KB set span): row
     * r's set is (r·ldw·4 mod 4096) / 64. True for any multiple of 1024 floats (all 12 in one set), 512 and 1536 (6
     * per set); false for 384 or 768 (at most 3), and for strides under a cache line (rows share lines).
     */
    static boolean aliased(long ldw) {
        if (ldw * Float.BYTES < 64) {
            return false;
        }
        int[] perSet = new int[64];
        for (int r = 0; r < MR; r++) {
            if (++perSet[(int) ((r * ldw * Float.BYTES & 4095) >>> 6)] >= 4) {
                return true;
            }
        }
        return false;
    }

    /** A row stride of at least kc floats whose bytes are 64 past a multiple of 4 KB: consecutive rows, next set. */
    static long paddedStride(int kc) {
        return roundUp(kc, 1024) + 64 / Float.BYTES;
    }

    /** Rows [0, rows) of W (row r at element w0 + r·ldw, kc floats each) copied to row r·ld of this thread's buffer. */
    private static MemorySegment spanCopy(MemorySegment w, long w0, long ldw, int rows, int kc, long ld) {
        MemorySegment[] slot = SPAN_COPY.get();
        long bytes = SPAN * ld * Float.BYTES;
        if (slot[0] == null || slot[0].byteSize() < bytes) {
            slot[0] = Arena.ofAuto().allocate(bytes, 64);
        }
        MemorySegment dst = slot[0];
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(w, (w0 + r * ldw) * Float.BYTES, dst, r * ld * Float.BYTES, (long) kc * Float.BYTES);
        }
        return dst;
    }

    /**
     * {@link #micro2Any}, by a copy with the row stride as a literal ({@code GemmStrideKernels}, generated at build
     * time by {@code tensor/src/main/codegen/GemmStrides.java}) when the group has 12 rows and ldw is one of its
     * strides. Same results bit for bit. Only with {@link #STRIDES}.
     */
    static void micro2(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile) {
        if (COMPACT) {
            micro2Half(kc, w, w0, ldw, Math.min(rows, HALF), xp, xi, tile, 0);
            if (rows > HALF) {
                micro2Half(kc, w, w0 + HALF * ldw, ldw, rows - HALF, xp, xi, tile, HALF);
            }
        } else if (!STRIDES || rows != MR || !GemmStrideKernels.micro2(kc, w, w0, ldw, xp, xi, tile)) {
            micro2Any(kc, w, w0, ldw, rows, xp, xi, tile);
        }
    }

    /** {@link #micro3}, by {@link #micro3Half} twice when {@link #COMPACT} (the second only for more than 4 rows). */
    static void wide(int kc, MemorySegment w, long w0, long ldw, int rows, float[] xp, int xi, float[] tile) {
        if (COMPACT) {
            micro3Half(kc, w, w0, ldw, Math.min(rows, MR3 / 2), xp, xi, tile, 0);
            if (rows > MR3 / 2) {
                micro3Half(kc, w, w0 + MR3 / 2 * ldw, ldw, rows - MR3 / 2, xp, xi, tile, MR3 / 2);
            }
        } else {
            micro3(kc, w, w0, ldw, rows, xp, xi, tile);
        }
    }
}
