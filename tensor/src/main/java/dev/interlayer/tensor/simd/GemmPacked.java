package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.F;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.roundUp;
import static dev.interlayer.tensor.simd.GemmSpecies.scalar;
import static dev.interlayer.tensor.simd.GemmSpecies.widen;
import static dev.interlayer.tensor.simd.GemmSpecies.widenPart;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.*;

/**
 * Cache-blocked, packed GEMM in the BLIS layout: C[m, n] = A[m, k]·B[k, n].
 *
 * <p>Loops, outermost first: NC columns of B; KC steps of k (B block packed to F32 once, [KC][NR]
 * per micro-panel, so F16/BF16 are widened once per block and then reused by every row of A);
 * MC rows of A (packed [KC][MR] per micro-panel); NR-wide micro-panels of B; MR-row micro-panels
 * of A; then the register-tiled micro-kernel: MR = 4 rows × NR = 3 vectors, 12 FMA accumulators,
 * per k step 3 vector loads + 4 broadcasts. Edge tiles are zero-padded in the packed buffers and
 * only their valid part is written. Packing buffers are per thread and reused (bounded, L2-sized:
 * the weights themselves are never copied as a whole).
 *
 * <p>Used for {@code matmul} a·b (B rows contiguous along n) and weights without a unit k stride; weights
 * w[n, k] with contiguous rows take {@link GemmWeightStream} instead (or this class again with
 * {@code -Ddev.interlayer.gemm.blis=true}, for comparison).
 *
 * <p>Block sizes can be overridden for tuning with {@code dev.interlayer.gemm.kc/mc/nc}.
 *
 * <p>The written-out micro-kernel {@link #micro} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmPackedUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmPackedUnrolled}.
 */
final class GemmPacked extends GemmPackedUnrolled {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final int MR = 4;
    static final int NV = 3;
    static final int NR = NV * VL;
    static final int KC = Integer.getInteger("dev.interlayer.gemm.kc", 256);
    static final int MC = roundUp(Integer.getInteger("dev.interlayer.gemm.mc", 128), MR);
    static final int NC = roundUp(Integer.getInteger("dev.interlayer.gemm.nc", 512), NR);

    /** Weight rows widened per group before the transpose (memory-level parallelism vs L1 footprint). */
    static final int PG = Math.min(NR, Integer.getInteger("dev.interlayer.gemm.pg", 4));
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** Per-thread packing buffers: A block [MC/MR][KC][MR], B block [NC/NR][KC][NR], one edge tile. */
    private static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] b = new float[NC * KC];
        final float[] tile = new float[MR * NR];
        final float[] rows = new float[PG * KC]; // PG weight rows widened to F32 (packB of w[n, k]), [PG][kc]
    }

    private GemmPacked() {
    }

    /** C[i, j] for i in [i0, i1), j in [j0, j1); operands as in {@link GemmKernel#gemm}. */
    static void block(int k, float[] a, int aOff, int lda, int kind, MemorySegment b, long bOff,
                      long bsn, long bsk, float[] c, int cOff, int ldc, int i0, int i1, int j0, int j1) {
        Buffers buf = BUFFERS.get();
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(buf, kc, nc, kind, b, bOff + jc * bsn + pc * bsk, bsn, bsk);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packA(buf.a, kc, mc, a, aOff + ic * lda + pc, lda);
                    for (int jr = 0; jr < nc; jr += NR) {
                        for (int ir = 0; ir < mc; ir += MR) {
                            micro(kc, buf.a, ir * kc, buf.b, jr * kc, c, cOff + (ic + ir) * ldc + jc + jr, ldc,
                                    pc > 0, Math.min(MR, mc - ir), Math.min(NR, nc - jr), buf.tile);
                        }
                    }
                }
            }
        }
    }

    // ---- packing ----

    /** ap[ir*kc + p*MR + r] = A[ir + r, p], rows past mc zero. */
    private static void packA(float[] ap, int kc, int mc, float[] a, int a0, int lda) {
        for (int ir = 0; ir < mc; ir += MR) {
            int base = ir * kc;
            for (int r = 0; r < MR; r++) {
                if (ir + r < mc) {
                    int row = a0 + (ir + r) * lda;
                    for (int p = 0; p < kc; p++) {
                        ap[base + p * MR + r] = a[row + p];
                    }
                } else {
                    for (int p = 0; p < kc; p++) {
                        ap[base + p * MR + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * bp[jr*kc + p*NR + j] = B[p, jr + j] as F32, columns past nc zero.
     *
     * <p>B in row layout (bsn == 1) is copied/widened VL columns at a time, edge panels element by
     * element. Otherwise (weights w[n, k], or any strides) the panel's rows are widened PG at a time into
     * {@code rows[j*kc + p]} (vector loads when bsk == 1: PG rows' cache misses in flight at once,
     * still L1-sized), then transposed from the heap with plain stores. Measured alternatives: one
     * row at a time (fewer misses in flight, ~13% slower at F32 4096x4096), all NR rows then AVX-512
     * gathers (no faster, ~4% slower for BF16). On weights that stream from DRAM this copy is still
     * ~27-37% of a 128-row GEMM: it is bound by memory traffic, not by the transpose.
     */
    private static void packB(Buffers buf, int kc, int nc, int kind, MemorySegment b, long b0, long bsn,
                              long bsk) {
        float[] bp = buf.b;
        for (int jr = 0; jr < nc; jr += NR) {
            int base = jr * kc;
            int nr = Math.min(NR, nc - jr);
            if (bsn == 1) {                       // rows of B contiguous (matmul a·b): copy/widen NR at a time
                for (int p = 0; p < kc; p++) {
                    long src = b0 + jr + p * bsk;
                    int dst = base + p * NR;
                    for (int v = 0; v < NR; v += VL) {
                        int lanes = nr - v;
                        if (lanes > 0) {
                            if (lanes >= VL) {
                                widen(kind, b, src + v, bp, dst + v);
                            } else {
                                widenPart(kind, b, src + v, lanes, true, bp, dst + v);
                            }
                        } else {
                            FloatVector.zero(F).intoArray(bp, dst + v);
                        }
                    }
                }
            } else {                              // weight rows w[n, k] (bsk == 1) or any strides: transpose
                float[] rows = buf.rows;
                for (int jg = 0; jg < NR; jg += PG) {
                    int g = Math.min(PG, nr - jg);   // rows of this group that exist (may be <= 0)
                    for (int j = 0; j < g; j++) {
                        long src = b0 + (jr + jg + j) * bsn;
                        int dst = j * kc;
                        if (bsk == 1) {
                            int p = 0;
                            for (; p + VL <= kc; p += VL) {
                                widen(kind, b, src + p, rows, dst + p);
                            }
                            if (p < kc) {
                                widenPart(kind, b, src + p, kc - p, true, rows, dst + p);
                            }
                        } else {
                            for (int p = 0; p < kc; p++) {
                                rows[dst + p] = scalar(kind, b, src + p * bsk);
                            }
                        }
                    }
                    for (int j = 0; j < PG; j++) {
                        int dst = base + jg + j;
                        if (j < g) {
                            for (int p = 0, q = j * kc; p < kc; p++, dst += NR) {
                                bp[dst] = rows[q + p];
                            }
                        } else {
                            for (int p = 0; p < kc; p++, dst += NR) {
                                bp[dst] = 0f;
                            }
                        }
                    }
                }
            }
        }
    }
}
