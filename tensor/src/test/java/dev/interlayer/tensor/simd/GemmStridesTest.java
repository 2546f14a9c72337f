package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.ChildJvm;
import dev.interlayer.tensor.ComputePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-stride copies of the 12-row micro-kernel ({@code GemmStrideKernels}, generated at build time by
 * {@code src/main/codegen/GemmStrides.java}) against the generic {@link GemmDirectKernel#micro2Any} and a scalar
 * oracle, for every stride that has a copy, k = 1, 17 and 301, a weight offset; the dispatch for strides without a
 * copy; and the F32 GEMM through {@link GemmVector} on weights of those strides (contiguous, and views whose rows
 * are shorter than the stride), at 1 and 2 threads, with the copies off (the default) and, in a child JVM, on.
 *
 * <p>The copies are compared with micro2Any for exact equality. That is allowed here, against the house rule of no
 * exact float equality between two computation paths, because it is one computation: each copy loads the same
 * weights (the same byte offsets, written as base + constant instead of base + r·stride) and does the same FMAs in
 * the same order into the same accumulators. A difference would be a generator bug. Against the oracle the
 * tolerance is {@code WeightStreamEdgesTest}'s, (k + 2)·u·Σ|x||w|.
 */
class GemmStridesTest {
    private static final int NR = GemmWeightStream.NR;
    private final int threads = ComputePool.threads();

    @AfterEach
    void restoreThreads() {
        ComputePool.setThreads(threads);
    }

    @Test
    void everyCopyEqualsTheGenericKernelAndMatchesTheOracle() {
        SplittableRandom rng = new SplittableRandom(0x57D);
        assertEquals(12, GemmStrideKernels.STRIDES.length);
        for (int s : GemmStrideKernels.STRIDES) {
            for (int kc : new int[] {1, 17, 301}) {
                long w0 = 1 + rng.nextInt(5);
                float[] wv = GemmOracle.gaussian(rng, (int) w0 + 12 * s);
                MemorySegment w = GemmOracle.nativeCopy(wv);
                int xi = 7;
                float[] xp = GemmOracle.gaussian(rng, xi + kc * NR);
                float[] copy = new float[GemmWeightStream.TILE], generic = new float[GemmWeightStream.TILE];
                assertTrue(GemmStrideKernels.micro2(kc, w, w0, s, xp, xi, copy), "no copy for stride " + s);
                GemmDirectKernel.micro2Any(kc, w, w0, s, 12, xp, xi, generic);
                assertArrayEquals(generic, copy, "stride " + s + " kc " + kc);
                for (int r = 0; r < 12; r++) {
                    for (int t = 0; t < NR; t++) {
                        double want = 0, scale = 0;
                        for (int p = 0; p < kc; p++) {
                            double v = (double) wv[(int) w0 + r * s + p] * xp[xi + p * NR + t];
                            want += v;
                            scale += Math.abs(v);
                        }
                        GemmOracle.check(copy[r * NR + t], want, scale, kc,
                                "stride " + s + " kc " + kc + " r " + r + " t " + t);
                    }
                }
            }
        }
    }

    @Test
    void otherStridesFallBackUntouched() {
        MemorySegment w = Arena.ofAuto().allocate(4L * 12 * 800, 64);
        float[] xp = new float[4 * NR], tile = new float[GemmWeightStream.TILE];
        Arrays.fill(tile, 3f);
        for (long ldw : new long[] {769, 767, 1, 1L << 32 | 768}) {
            assertFalse(GemmStrideKernels.micro2(4, w, 0, ldw, xp, 0, tile), "stride " + ldw);
        }
        for (float v : tile) {
            assertEquals(3f, v);
        }
    }

    @Test
    void generatedFileNamesItsGenerator() throws Exception {
        Path p = Path.of("target/generated-sources/gemm-strides/dev/interlayer/tensor/simd/GemmStrideKernels.java");
        assertTrue(Files.isRegularFile(p), "generated source not found from " + Path.of("").toAbsolutePath());
        String first = Files.readString(p).lines().findFirst().orElse("");
        assertTrue(first.startsWith("// GENERATED") && first.contains("codegen/GemmStrides.java")
                && first.contains("do not edit"), p + " first line: " + first);
    }

    @Test
    void gemmOnWeightsOfCopiedStridesMatchesTheOracle() {
        gemmSweep();
    }

    @Test
    void gemmWithTheCopiesSwitchedOnMatchesTheOracle() throws Exception {
        // the switch is a static final read at class load, so the switched-on GEMM runs in a child JVM (main below)
        String out = ChildJvm.run(GemmStridesTest.class, List.of("-Ddev.interlayer.gemm.ws.strides=true",
                "-Ddev.interlayer.gemm.ws.compact=false"), 120,
                List.of());
        assertTrue(out.contains("OK strides=true"), out);
    }

    /** {@link #gemmSweep} with the copies switched on; run by {@link #gemmWithTheCopiesSwitchedOnMatchesTheOracle}. */
    public static void main(String[] args) {
        if (!GemmDirectKernel.STRIDES) {
            throw new IllegalStateException("-Ddev.interlayer.gemm.ws.strides=true did not switch the copies on");
        }
        gemmSweep();
        System.out.println("OK strides=true");
    }

    private static void gemmSweep() {
        GemmKernel kernel = new GemmVector();
        SplittableRandom pick = new SplittableRandom(0x5_77);
        for (int t : new int[] {1, 2}) {
            ComputePool.setThreads(t);
            for (int s : new int[] {768, 2048, 5120}) {
                gemm(kernel, 40, 25, s, s, pick.nextLong(), t);          // contiguous rows
                gemm(kernel, 64, 37, s - 61, s, pick.nextLong(), t);     // a view: rows shorter than the stride
            }
            gemm(kernel, 33, 13, 14336, 14336, pick.nextLong(), t);      // 7 k blocks of 2048
        }
    }

    // C = X·Wᵀ, X [m, k] contiguous, W [n, k] rows ldw apart from element 3, against the double oracle.
    private static void gemm(GemmKernel kernel, int m, int n, int k, int ldw, long seed, int threads) {
        GemmOracle.stridedProduct(kernel, m, n, k, ldw, seed, "threads=" + threads);
    }
}
