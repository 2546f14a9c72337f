package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * A by-hand A/B probe (not a test) of {@link QuantMatVecs}: one Llama-3.2-1B layer's shared-input decode products
 * (q 2048, k 512, v 512 rows of k = 2048; gate and up 8192 rows of 2048) over {@code layers} copies of the weights,
 * as one group each ({@code fused}) against one {@link QuantMatMul#matmulT} per weight ({@code separate}), the two
 * alternated call by call so that they share the machine's conditions. Prints the median and best wall time per
 * layer and the median of the per-pair ratios, with the process CPU time per layer.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp tensor/target/classes:tensor/target/test-classes \
 *   -Dprobe.threads=2 dev.interlayer.tensor.quant.FusedMatVecsProbe Q8_0 [layers=16] [rounds=40]
 * </pre>
 */
public final class FusedMatVecsProbe {
    private static final java.lang.management.OperatingSystemMXBean OS =
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private FusedMatVecsProbe() {
    }

    public static void main(String[] args) {
        DType t = DType.valueOf(args[0]);
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        ComputePool.setThreads(Integer.getInteger("probe.threads", 2));
        BlockFormat f = BlockFormats.of(t);
        int k = 2048;
        int[][] groups = {{2048, 512, 512}, {8192, 8192}};
        Random r = new Random(3);
        float[] x = QuantTestData.gaussian(k, r);
        MemorySegment[][][] ws = new MemorySegment[layers][groups.length][];
        float[][][] outs = new float[groups.length][][];
        try (Arena arena = Arena.ofShared()) {
            for (int g = 0; g < groups.length; g++) {
                outs[g] = new float[groups[g].length][];
                for (int i = 0; i < groups[g].length; i++) {
                    outs[g][i] = new float[groups[g][i]];
                    MemorySegment one = QuantTestData.randomRows(t, groups[g][i], k, r);
                    for (int l = 0; l < layers; l++) {
                        if (ws[l][g] == null) {
                            ws[l][g] = new MemorySegment[groups[g].length];
                        }
                        ws[l][g][i] = arena.allocate(one.byteSize(), 64).copyFrom(one);
                    }
                }
            }
            long[][] wall = new long[2][rounds], cpu = new long[2][rounds];
            for (int round = -5; round < rounds; round++) {
                for (int v = 0; v < 2; v++) {
                    int variant = (round & 1) == 0 ? v : 1 - v;       // alternate which goes first
                    long c0 = cpuNanos(), t0 = System.nanoTime();
                    for (int l = 0; l < layers; l++) {
                        for (int g = 0; g < groups.length; g++) {
                            run(variant == 0, f, k, x, groups[g], ws[l][g], outs[g]);
                        }
                    }
                    if (round >= 0) {
                        wall[variant][round] = System.nanoTime() - t0;
                        cpu[variant][round] = cpuNanos() - c0;
                    }
                }
            }
            double[] ratio = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                ratio[i] = (double) wall[1][i] / wall[0][i];
            }
            Arrays.sort(ratio);
            String[] names = {"fused", "separate"};
            for (int v = 0; v < 2; v++) {
                long[] w = wall[v].clone(), c = cpu[v].clone();
                Arrays.sort(w);
                Arrays.sort(c);
                System.out.printf(Locale.ROOT, "%s %-8s threads=%d layers=%d: wall/layer median %.1f us best %.1f us,"
                                + " cpu/layer median %.1f us%n", t, names[v], ComputePool.threads(), layers,
                        w[rounds / 2] / 1e3 / layers, w[0] / 1e3 / layers, c[rounds / 2] / 1e3 / layers);
            }
            System.out.printf(Locale.ROOT, "%s separate/fused wall per pair: median %.3f (quartiles %.3f %.3f)%n", t,
                    ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4]);
        }
    }

    private static void run(boolean fused, BlockFormat f, int k, float[] x, int[] ns, MemorySegment[] ws,
                            float[][] outs) {
        if (fused) {
            QuantMatVecs g = QuantMatVecs.lease();
            for (int i = 0; i < ns.length; i++) {
                g.add(f, ns[i], ws[i], 0, outs[i], 0);
            }
            g.run(k, x, 0);
        } else {
            for (int i = 0; i < ns.length; i++) {
                QuantMatMul.matmulT(f, 1, ns[i], k, x, 0, k, ws[i], 0, outs[i], 0, ns[i]);
            }
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) OS).getProcessCpuTime();
    }
}
