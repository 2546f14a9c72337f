package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.roundUp;
import static dev.interlayer.tensor.simd.GemmSpecies.widen;
import static dev.interlayer.tensor.simd.GemmSpecies.widenPart;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.ThreadSlot;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * C[m, n] = A[m, k]·Wᵀ for weights W[n, k] whose rows are contiguous in k (a linear layer's weight)
 * and more activation rows than the dot-product path takes: prefill and batched encoders.
 *
 * <p>It computes the transposed product Cᵀ = W·Aᵀ, so the weights are the broadcast operand of the
 * micro-kernel and the activations the vector operand. Why: a register-tiled kernel needs its vector
 * operand contiguous along the output tile, and for the BLIS layout ({@link GemmPacked}) that is W
 * transposed. Transposing weights that stream from DRAM cost 27-37% of a 128-row GEMM there. Here the
 * weights are read in their stored order and only widened, MR rows at a time, into a small per-thread
 * buffer; the activations, which are small and reused by every weight row, are the ones transposed.
 *
 * <p>Loops, outermost first: MC activation rows (split over the threads when there are at least two
 * blocks per thread); KC steps of k (that block of A packed once as
 * [MC/NR][KC][NR] token panels); MR-row groups of W, otherwise split over the threads
 * (each group widened to F32 as [MR][KC]); NR-token panels; the micro-kernel, MR = 12 weight rows ×
 * NR = 2 vectors of tokens, 24 FMA accumulators, per k step 2 vector loads and 12 broadcasts. Edge
 * tiles compute on zero padding and store only their valid part.
 *
 * <p>F32 weights in native memory skip the widening: {@link GemmDirectKernel} broadcasts them straight from the
 * weight segment (12-row groups in spans of 24 rows that stay in L2 across the panels), a block of NR·q + 9 … 16 rows
 * ends in one 3-vector panel and one of NR·q + 1 … 8 rows in the dot-product tail {@link GemmDirectTail}; the tail
 * rows are not packed.
 * The widening below serves BF16 and F16 weights, F32 weights on the heap (and all F32 with
 * {@code -Ddev.interlayer.gemm.ws.widen=true}).
 *
 * <p>KC = 2048: a packed MC × KC activation block then takes 1 MB, half of this machine's 2 MB L2 (Intel Xeon,
 * AVX-512), next to the widened weight rows. At 4096 it took all of it: 1 thread, thread CPU time, old and new in
 * one JVM, GFLOP/s at m × n × k = 128 × 2048 × 8192: 64 → 75, 512 × 2048 × 8192: 68 → 84, 256 × 2048 × 4096: 72 →
 * 96, BF16 256 × 2048 × 8192: 73 → 88; k ≤ 2048 unchanged, 5632 (3 blocks instead of 2) ±0.
 *
 * <p>Block sizes can be overridden for tuning with {@code dev.interlayer.gemm.ws.kc/mc}.
 *
 * <p>The written-out micro-kernel {@link #micro} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmWeightStreamUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmWeightStreamUnrolled}.
 */
final class GemmWeightStream extends GemmWeightStreamUnrolled {
    static final int MR = 12;
    static final int NR = 2 * VL;
    static final int KC = Math.max(1, Integer.getInteger("dev.interlayer.gemm.ws.kc", 2048));
    /** F32 weights read in place ({@link GemmDirectKernel}); off with {@code dev.interlayer.gemm.ws.widen}. */
    static final boolean DIRECT = !Boolean.getBoolean("dev.interlayer.gemm.ws.widen");
    static final int MC = roundUp(Integer.getInteger("dev.interlayer.gemm.ws.mc", 128), NR);

    /** The packed activation block, leased by the calling thread for the whole call. */
    private static final ThreadSlot<float[]> PACKED = new ThreadSlot<>();
    /**
     * Length of an output tile ([MR][NR], or [MR3][NR3]): room for {@link #store}'s gathers, whose masked-off lanes
     * still index the tile up to the next multiple of VL rows.
     */
    static final int TILE = roundUp(MR, VL) * GemmDirectKernel.NR3;
    /** Gather offsets down a tile column of leading dimension NR or NR3, for {@link #store}. */
    private static final int[] DOWN_NR = down(NR), DOWN_NR3 = down(GemmDirectKernel.NR3);
    /** One thread's widened weight rows [MR][KC] (this group's and the next one's) and its output tile. */
    private static final ThreadLocal<float[][]> SCRATCH =
            ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[TILE], new float[0],
                new float[GemmDirectTail.accLength(NR)]});

    private GemmWeightStream() {
    }

    /**
     * One product's weights and output: W row j at element {@code wOff + j*ldw} of {@code w}, unit k stride;
     * C[i, j] at {@code c[cOff + i*ldc + j]}.
     */
    record Product(MemorySegment w, long wOff, long ldw, float[] c, int cOff, int ldc) {
    }

    /**
     * C[i, j] = Σ_p A[i, p]·W[j, p] for i &lt; m, j &lt; n, p &lt; k; W row j at element {@code wOff + j*ldw}
     * of {@code w} in storage {@code kind}, unit k stride. Uses up to {@code threads} threads.
     */
    static void gemm(int m, int n, int k, float[] a, int aOff, int lda, int kind, MemorySegment w, long wOff,
                     long ldw, float[] c, int cOff, int ldc, int threads) {
        gemms(m, n, k, a, aOff, lda, kind, new Product[] {new Product(w, wOff, ldw, c, cOff, ldc)}, threads);
    }

    /**
     * C_i = A·W_iᵀ for every product i (all [n, k] in storage {@code kind}), each activation block packed once
     * for all of them (gate and up of a gated MLP). Each C_i is computed exactly as {@link #gemm} computes it
     * alone: the packed block holds the same values and every product runs the same kernels over it.
     */
    static void gemms(int m, int n, int k, float[] a, int aOff, int lda, int kind, Product[] ps, int threads) {
        if (threads > 1 && !java.util.concurrent.ForkJoinTask.inForkJoinPool()) {
            // Called from outside the pool (a direct Ops.matmulT, `bench gemm`): run the whole call on a pool thread,
            // as a model's forward pass does (ComputePool.run), instead of packing on this thread and handing each
            // (MC, KC) block's parallelFor to the pool and parking until it is done. Same kernels, same partition.
            // GFLOP per process CPU second, 2 threads, this way against the old in one JVM (alternating 1-s windows,
            // Zen 5, load 12-17): m = 128: 0.65-1.50 (per-run medians 1.16 and 0.97), 256: 0.93-1.60 (1.2, 1.04),
            // 384: 0.97-1.46 (1.11), 128 x 2048 x 8192: 0.77-1.33 (1.07), n = k = 2048: no loss shown; wall clock
            // was unreadable at that load.
            ComputePool.run(() -> split(m, n, k, a, aOff, lda, kind, ps, threads));
            return;
        }
        split(m, n, k, a, aOff, lda, kind, ps, threads);
    }

    /** {@link #gemms} on the calling thread: activation blocks per thread, or weight rows split per block. */
    private static void split(int m, int n, int k, float[] a, int aOff, int lda, int kind, Product[] ps, int threads) {
        int mBlocks = (m + MC - 1) / MC;
        if (threads > 1 && mBlocks >= 2 * threads) {
            // Many activation rows: each thread takes whole MC blocks and packs its own. Splitting the weight
            // rows instead leaves the other threads waiting while one packs each block (1024^3, 2 threads:
            // 357 against 416 GFLOP/s); the weights are read once per MC block either way.
            ComputePool.parallelFor(mBlocks, blk -> {
                int ic = blk * MC;
                blocks(ic, Math.min(m, ic + MC), n, k, a, aOff, lda, kind, ps, 1);
            });
            return;
        }
        blocks(0, m, n, k, a, aOff, lda, kind, ps, threads);
    }

    /** Activation rows [i0, i1), MC at a time, each block's weight rows split over {@code threads}. */
    private static void blocks(int i0, int i1, int n, int k, float[] a, int aOff, int lda, int kind,
                               Product[] ps, int threads) {
        // Equal k blocks (5632 = 3 x 1878, not 2 x 2048 + 1536): the short last block would pay a whole pass of
        // C stores and weight-row widening for a quarter of the work.
        int kBlocks = (k + KC - 1) / KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        boolean direct = direct(kind, ps);
        float[] xp = PACKED.lease();
        if (xp == null || xp.length < MC * kcMax) {
            xp = new float[MC * Math.min(KC, roundUp(k, 64))];
        }
        try {
            int groups = (n + MR - 1) / MR;
            int parts = Math.max(1, Math.min(threads, groups));
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = Math.min(MC, i1 - ic);
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    int aBlock = aOff + ic * lda + pc;
                    if (direct) {
                        GemmDirectKernel.pack(xp, mc, kc, a, aBlock, lda);
                    } else {
                        packActivations(xp, packedRows(mc), kc, a, aBlock, lda);
                    }
                    boolean accumulate = pc > 0;
                    int row0 = ic;
                    long col0 = pc;
                    float[] panels = xp;
                    if (parts == 1) {
                        for (Product p : ps) {
                            rowGroups(0, groups, n, kc, mc, panels, a, aBlock, lda, kind, direct, p.w, p.wOff + pc,
                                    p.ldw, p.c, p.cOff + ic * p.ldc, p.ldc, accumulate);
                        }
                    } else {
                        ComputePool.parallelFor(parts, t -> {
                            int g0 = (int) ((long) groups * t / parts), g1 = (int) ((long) groups * (t + 1) / parts);
                            for (Product p : ps) {
                                rowGroups(g0, g1, n, kc, mc, panels, a, aBlock, lda, kind, direct, p.w, p.wOff + col0,
                                        p.ldw, p.c, p.cOff + row0 * p.ldc, p.ldc, accumulate);
                            }
                        });
                    }
                }
            }
        } finally {
            PACKED.release(xp);
        }
    }

    /** Rows of an mc-row block that go through token panels: all, unless the last few take the dot-product tail. */
    private static int packedRows(int mc) {
        int rem = mc % NR;
        return rem > 0 && rem <= GemmDotTail.MAX_TOKENS ? mc - rem : mc;
    }

    /** xp[(q*kc + p)*NR + t] = A[q*NR + t, p] for the block's rows; rows past mc are zero. */
    private static void packActivations(float[] xp, int mc, int kc, float[] a, int a0, int lda) {
        for (int q = 0; q * NR < mc; q++) {
            ActivationPanels.pack(xp, q * kc * NR, NR, kc, a, a0 + q * NR * lda, lda, Math.min(NR, mc - q * NR));
        }
    }

    /**
     * F32 weights in native memory (a mapped file, an arena) take the in-place kernels ({@link GemmDirectKernel}),
     * which read them as {@link GemmSpecies#NATIVE} segments; F32 weights on the heap are widened (copied) like BF16.
     * The quantizer's calibration passes run on heap F32 weights: in the in-place kernel there every vector was boxed
     * (JFR), and GPTQ on e5-small-v2 took 211 s (175 s of CPU) against 59 s (56 s) with the widening (one run each,
     * load 2.5–6).
     */
    private static boolean direct(int kind, Product[] ps) {
        if (!DIRECT || kind != GemmSpecies.KIND_F32) {
            return false;
        }
        for (Product p : ps) {
            if (!GemmSpecies.NATIVE.isInstance(p.w)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Weight-row groups [g0, g1) of one (MC, KC) block; F32 weights go to {@link GemmDirectKernel#groups}. Otherwise
     * each group runs over every token panel, and the next
     * group's rows are widened to F32 during the first panel, inside its micro-kernel ({@link GemmWidenKernel},
     * one vector per k step, so the loads overlap the FMAs; the first group before the loop). A ~32-row MoE
     * expert has only one panel, and widening a group from DRAM cost as much as that panel: 32 rows over 64
     * experts' F32 weights went from 68 to 96 GFLOP/s (1 thread, same JVM). When the first panel is a
     * dot-product tail, the next group is widened after it.
     *
     * <p>The last {@code mc mod NR ≤} {@link GemmDotTail#MAX_TOKENS} tokens skip the zero-padded panel and take
     * the dot-product tail on the same widened rows: a 33-row MoE expert computed 64 token columns before.
     * (Touching the next group's weights during the panel, so that they stream in while it computes, made no
     * difference at 32 rows: 64 experts' weights cold from DRAM ran as fast as one expert's, warm.)
     */
    private static void rowGroups(int g0, int g1, int n, int kc, int mc, float[] xp, float[] a, int a0, int lda,
                                  int kind, boolean direct, MemorySegment w, long w0, long ldw, float[] c, int c0, int ldc,
                                  boolean accumulate) {
        float[][] scratch = SCRATCH.get();
        if (scratch[0].length < MR * kc) {
            scratch[0] = new float[MR * Math.min(KC, roundUp(kc, 64))];
            scratch[2] = new float[scratch[0].length];
        }
        float[] wb = scratch[0], next = scratch[2], tile = scratch[1];
        int panelRows = packedRows(mc);
        if (direct) {
            GemmDirectKernel.groups(g0 * MR, Math.min(n, g1 * MR), kc, mc, xp, a, a0, lda, w, w0, ldw, c, c0, ldc,
                    accumulate, tile, scratch[3]);
            return;
        }
        if (g0 < g1) {
            widenRows(wb, Math.min(MR, n - g0 * MR), kc, kind, w, w0 + g0 * MR * ldw, ldw);
        }
        for (int g = g0; g < g1; g++) {
            int j = g * MR;
            int rows = Math.min(MR, n - j);
            int nextRows = g + 1 < g1 ? Math.min(MR, n - j - MR) : 0;
            for (int q = 0; q * NR < mc; q++) {
                int tokens = Math.min(NR, mc - q * NR);
                boolean widenNext = q == 0 && nextRows > 0;
                if (q * NR >= panelRows) {
                    GemmDotTail.tile(kc, wb, a, a0 + q * NR * lda, lda, tokens, tile, NR);
                    if (widenNext) {
                        widenRows(next, nextRows, kc, kind, w, w0 + (j + MR) * ldw, ldw);
                    }
                } else if (widenNext) {
                    GemmWidenKernel.micro(kc, wb, xp, 0, tile, next, nextRows, kind, w, w0 + (j + MR) * ldw, ldw);
                } else {
                    micro(kc, wb, xp, q * kc * NR, tile);
                }
                store(tile, NR, rows, tokens, c, c0 + q * NR * ldc + j, ldc, accumulate);
            }
            float[] t = wb;
            wb = next;
            next = t;
        }
    }

    /** wb[r*kc + p] = W[r, p] as F32 for r &lt; rows; rows past that are zero. */
    private static void widenRows(float[] wb, int rows, int kc, int kind, MemorySegment w, long w0, long ldw) {
        for (int r = 0; r < MR; r++) {
            int dst = r * kc;
            if (r >= rows) {
                java.util.Arrays.fill(wb, dst, dst + kc, 0f);
                continue;
            }
            long src = w0 + r * ldw;
            int p = 0;
            for (; p + VL <= kc; p += VL) {
                widen(kind, w, src + p, wb, dst + p);
            }
            if (p < kc) {
                // masked store too: with a block size that is no multiple of VL (dev.interlayer.gemm.ws.kc=683) a
                // whole-vector store of the last row ran past the [MR][KC] buffer
                widenPart(kind, w, src + p, kc - p, false, wb, dst + p);
            }
        }
    }

    /**
     * C[t, r] (=, or += when accumulate) tile[r*ld + t] for r &lt; rows, t &lt; tokens; C[t, r] at c[ci + t*ldc + r].
     *
     * <p>Per token one masked gather down the tile's column (up to VL rows) and one masked vector store into C's
     * row: the same values and the same single addition per element as an element loop. Why: the element loop (12
     * scalar loads and stores per token) and the row grouping around it took 7.0% of a dense F32 GEMM's JFR samples
     * (BENCHMARKS §21); the loop alone, on 12 × 32 tiles into C rows 2048 floats apart, took 264–306 ns per tile
     * (about 2.5% of a tile's compute at k = 2048) against 92–164 now (BENCHMARKS §23). ld is NR or
     * NR3, and the tile {@link #TILE} long.
     */
    static void store(float[] tile, int ld, int rows, int tokens, float[] c, int ci, int ldc, boolean accumulate) {
        int[] idx = ld == NR ? DOWN_NR : DOWN_NR3;
        for (int r0 = 0; r0 < rows; r0 += VL) {
            VectorMask<Float> m = F.indexInRange(r0, rows);
            int base = r0 * ld;
            for (int t = 0; t < tokens; t++) {
                int row = ci + t * ldc + r0;
                FloatVector v = FloatVector.fromArray(F, tile, base + t, idx, 0, m);
                if (accumulate) {
                    v = FloatVector.fromArray(F, c, row, m).add(v);
                }
                // masked: the columns past this group's rows may belong to another thread's groups
                v.intoArray(c, row, m);
            }
        }
    }

    private static int[] down(int ld) {
        int[] idx = new int[VL];
        for (int i = 0; i < VL; i++) {
            idx[i] = i * ld;
        }
        return idx;
    }
}
