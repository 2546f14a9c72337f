package dev.interlayer.quant;

import java.lang.management.ManagementFactory;

/**
 * Wall-clock and process CPU time of the proportional and the two-sided MSE clipping search ({@link ClipSearch#twoSided}),
 * RTN and GPTQ, on the linears of one 384-wide encoder layer (four 384x384, 1536x384 up, 384x1536 down), Q4_1
 * groups of 32 with fp16 scales; the two variants alternate in one JVM, several rounds. Then, on groups of the same
 * weights, how often the two-sided search's coordinate descent reaches the exhaustive minimum over all candidate
 * pairs. Not a test (no Test suffix):
 * <pre>
 * mvn -q -B -o test-compile -pl quant -am &amp;&amp; /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --add-modules jdk.incubator.vector \
 *   -cp quant/target/classes:quant/target/test-classes:nn/target/classes:tensor/target/classes \
 *   dev.interlayer.quant.ClipTiming [rounds=3]
 * </pre>
 */
public final class ClipTiming {
    private ClipTiming() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        GptqTiming.Layer layer = GptqTiming.Layer.random(1);
        int d = GptqTiming.Layer.D, ff = GptqTiming.Layer.FF;
        double[] h384 = layer.h384(), h1536 = layer.h1536();
        float[] wSq = layer.wSq(), wUp = layer.wUp(), wDown = layer.wDown();
        QuantScheme q41 = new QuantScheme(GridKind.ASYM_OFFSET, 4, 32, ClipSearch.MSE, QuantScheme.ScaleFormat.F16);
        GptqOptions opt = GptqOptions.DEFAULT.withActOrder(true).withStaticGroups(true);
        // process CPU time: GPTQ splits its rows over threads
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        String[] names = {"rtn proportional", "rtn two-sided", "gptq proportional", "gptq two-sided"};
        for (int round = -1; round < rounds; round++) {           // round -1 warms up
            StringBuilder line = new StringBuilder(round < 0 ? "warm-up " : "round " + round + " ");
            for (int v = 0; v < 4; v++) {
                QuantScheme s = q41.withClip(ClipSearch.MSE.withTwoSided(v % 2 == 1));
                boolean gptq = v >= 2;
                long w0 = System.nanoTime(), c0 = os.getProcessCpuTime();
                for (int k = 0; k < 4; k++) {
                    if (gptq) {
                        Gptq.quantize(wSq, d, d, h384, s, opt);
                    } else {
                        Rtn.quantize(wSq, d, d, s);
                    }
                }
                if (gptq) {
                    Gptq.quantize(wUp, ff, d, h384, s, opt);
                    Gptq.quantize(wDown, d, ff, h1536, s, opt);
                } else {
                    Rtn.quantize(wUp, ff, d, s);
                    Rtn.quantize(wDown, d, ff, s);
                }
                line.append(String.format("| %s %.3f s (cpu %.3f) ", names[v], (System.nanoTime() - w0) * 1e-9,
                        (os.getProcessCpuTime() - c0) * 1e-9));
            }
            System.out.println(line);
        }
        QuantScheme two = q41.withClip(ClipSearch.MSE_TWO_SIDED);
        int groups = 2000, reached = 0;
        double sumProp = 0, sumTwo = 0, sumExh = 0;
        double[] v = new double[32], p = new double[2], t = new double[2];
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < 32; j++) {
                v[j] = wUp[g * 32 + j];
            }
            Grid.search(q41, v, 0, 32, null, p);
            Grid.search(two, v, 0, 32, null, t);
            double ep = ClipTwoSidedTest.error(two, v, null, p), et = ClipTwoSidedTest.error(two, v, null, t);
            double ex = ClipTwoSidedTest.exhaustive(two, v, null);
            reached += et <= ex * (1 + 1e-12) ? 1 : 0;
            sumProp += ep;
            sumTwo += et;
            sumExh += ex;
        }
        System.out.printf("%d groups of 32: two-sided reached the exhaustive minimum in %d; summed error proportional %.6g,"
                + " two-sided %.6g, exhaustive %.6g%n", groups, reached, sumProp, sumTwo, sumExh);
    }
}
