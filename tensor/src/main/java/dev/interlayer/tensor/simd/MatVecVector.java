package dev.interlayer.tensor.simd;

import static dev.interlayer.tensor.simd.GemmSpecies.KIND_BF16;
import static dev.interlayer.tensor.simd.GemmSpecies.KIND_F32;
import static dev.interlayer.tensor.simd.GemmSpecies.VL;
import static dev.interlayer.tensor.simd.GemmSpecies.scalar;

import java.lang.foreign.MemorySegment;

/**
 * Dot-product form of C = A·Wᵀ for W rows that are contiguous in k: decode (m = 1, a matrix-vector
 * product) and the small-m path (batched decode, short chunks). Each weight row is streamed once from its
 * segment (a mapping is fine; F16/BF16 are widened in registers) and reused for every activation row of
 * the tile while it is in registers, so the cost is one pass over the weights whatever m is.
 *
 * <p><b>Every output is computed the same way, whatever m and wherever its rows fall in the tiles:</b>
 * c[i, j] = tail(fold(acc)), where acc is one vector accumulator, acc ← W[j, p..p+VL)·A[i, p..p+VL) + acc
 * (lane-wise FMA) for p = 0, VL, … below kv = k − k mod VL, its lanes are summed in {@link GemmSpecies#fold}'s
 * fixed order (by the tiles on the vector itself, in log2(VL) rotate-and-add steps: {@code templates/LaneSum.inc};
 * the scalar fold of the stored lanes was ~5% of a BF16 decode profile), and the scalar tail adds W[j, p]·A[i, p]
 * for p in [kv, k) in sequence. So row i of a
 * product over m rows is bit-identical to the product of row i alone (batched decode equals single
 * decode; {@code MatVecRowsOracle} in the tests spells the order out). The tiles differ only in how
 * many outputs they compute per pass over k: 4 weight rows × 4, 2 or 1 activation rows.
 *
 * <p>The decode loops dot4FarF32, dot4FarBf16 and dot4FarF16 (the same loop, each with its own load; see
 * {@link #decodeRows}) are generated at build time from
 * {@code tensor/src/main/codegen/templates/MatVecVectorUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code MatVecVectorUnrolled}.
 */
final class MatVecVector extends MatVecVectorUnrolled {

    private MatVecVector() {
    }

    /**
     * C[i, j] = Σ_p A[i, p]·W[j, p] for i &lt; m and weight rows j in [j0, j1).
     * Shapes: A [m, k] rows at a[aOff + i*lda]; W rows at w[wOff + j*ldw] (unit k stride); C rows at c[cOff + i*ldc].
     *
     * <p>The range is cut into four equal quarters and one tile takes a row from each (rows j, j+q, j+2q,
     * j+3q): four read streams far apart in memory. Measured for m = 1 on one thread, 256 MB of weights
     * (GB/s): F32 k = 2048 35 against 29 for two adjacent rows and 27 for one row at a time; BF16 k = 2048
     * 32 against 27, and k = 8192 32 against 19 (two adjacent 16 KB rows collide in the cache sets and the
     * prefetcher). The activation rows go in tiles of 4 (a last 3 repeats its last row, stored once), 2 and
     * 1; the 0-3 weight rows left over take one row at a time.
     */
    static void rows(int m, int k, float[] a, int aOff, int lda, int kind, MemorySegment w, long wOff,
                     long ldw, float[] c, int cOff, int ldc, int j0, int j1) {
        int q = (j1 - j0) / 4;
        long quarter = q * ldw;
        for (int j = j0; j < j0 + q; j++) {
            long w0 = wOff + j * ldw;
            int i = 0;
            for (; m - i >= 3; i += 4) {
                MatVecTiles.far4x4(k, Math.min(4, m - i), a, aOff + i * lda, lda, kind, w, w0, quarter,
                        c, cOff + i * ldc + j, ldc, q);
            }
            if (m - i == 2) {
                MatVecTiles.far4x2(k, a, aOff + i * lda, lda, kind, w, w0, quarter, c, cOff + i * ldc + j, ldc, q);
            } else if (m - i == 1) {
                decodeQuarter(k, a, aOff + i * lda, kind, w, w0, quarter, c, cOff + i * ldc + j, q);
            }
        }
        for (int j = j0 + 4 * q; j < j1; j++) {
            for (int i = 0; i < m; i++) {
                c[cOff + i * ldc + j] = dot1x1(k, a, aOff + i * lda, kind, w, wOff + j * ldw);
            }
        }
    }

    /** m = 1 (decode): c[j] = W[j]·a for j in [j0, j1); {@link #rows} with one activation row. */
    static void decodeRows(int k, float[] a, int aOff, int kind, MemorySegment w, long wOff, long ldw, float[] c,
                           int cOff, int j0, int j1) {
        rows(1, k, a, aOff, k, kind, w, wOff, ldw, c, cOff, k, j0, j1);
    }

    // One activation row against weight rows w0 + t*step (t < 4), outputs c[ci + t*cs]. One loop per storage
    // kind, chosen here: a kernel that sees one kind keeps a stable profile and small code, so C2 inlines its
    // loads. A shared load(kind, ...) was left un-inlined once a JVM had run F16 and F32 models (compiled too
    // big), and every vector it returned was boxed (~1 MB/token).
    private static void decodeQuarter(int k, float[] a, int ai, int kind, MemorySegment w, long w0, long step,
                                      float[] c, int ci, int cs) {
        switch (kind) {
            case KIND_F32 -> dot4FarF32(k, a, ai, w, w0, step, c, ci, cs);
            case KIND_BF16 -> dot4FarBf16(k, a, ai, w, w0, step, c, ci, cs);
            default -> dot4FarF16(k, a, ai, w, w0, step, c, ci, cs);
        }
    }

    // The scalar k tail [kv, k) of four rows w0 + t*step added to their vector sums r0..r3 (lanes summed in
    // GemmSpecies.fold's order, on the vector: templates/LaneSum.inc); stores c[ci + t*cs].
    static void finish4(int k, int kv, float[] a, int ai, int kind, MemorySegment w, long w0, long step,
                        float r0, float r1, float r2, float r3, float[] c, int ci, int cs) {
        long w1 = w0 + step, w2 = w1 + step, w3 = w2 + step;
        for (int p = kv; p < k; p++) {
            float x = a[ai + p];
            r0 += scalar(kind, w, w0 + p) * x;
            r1 += scalar(kind, w, w1 + p) * x;
            r2 += scalar(kind, w, w2 + p) * x;
            r3 += scalar(kind, w, w3 + p) * x;
        }
        c[ci] = r0;
        c[ci + cs] = r1;
        c[ci + 2 * cs] = r2;
        c[ci + 3 * cs] = r3;
    }

    /** One output, in the order every tile follows (see the class comment); also the k &lt; VL case. */
    static float dot1x1(int k, float[] a, int ai, int kind, MemorySegment w, long wj) {
        int kv = k - k % VL;
        float r = 0;
        // No vector at all when k < VL (a tiny model): a vector loop that never runs leaves its vectors without a
        // type profile, C2 then compiled fma/reduceLanes as virtual calls and boxed the accumulator (96 B per
        // token on the 2-wide HF GPT-2 fixture, whose 50257-row head leaves one row for this tile).
        if (kv > 0) {
            // One loop per kind (generated, dot1F32 …), so no other kind's load shares this code. The loop with all
            // three loads, F16 through a call to GemmSpecies.loadF16, allocated 16,640 B per batched MoE step in 2 of
            // 7 JVMs: its F32 loads boxed, 0.5 kB less inlined into rows than in the good JVMs (read: the F16 call
            // kept and not inlined, and the phi merging its vector made C2 box the F32 ones; WeightLoads.inc).
            r = switch (kind) {
                case KIND_F32 -> dot1F32(kv, a, ai, w, wj);
                case KIND_BF16 -> dot1Bf16(kv, a, ai, w, wj);
                default -> dot1F16(kv, a, ai, w, wj);
            };
        }
        return MatVecTiles.tail(k, kv, a, ai, kind, w, wj, r);
    }
}
