package dev.interlayer.quant;

import java.util.SplittableRandom;

/**
 * Wall-clock timing of GPTQ on the linears of a 384-wide, 12-layer encoder (MiniLM/e5-small/bge-small
 * shapes): per layer four 384x384 projections, one 1536x384 (up) and one 384x1536 (down), 4-bit g128 with
 * act-order. Not a test (no Test suffix); run it on a quiet machine:
 * <pre>
 * mvn -q -B -o test-compile -pl quant -am &amp;&amp; /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --add-modules jdk.incubator.vector \
 *   -cp quant/target/classes:quant/target/test-classes:nn/target/classes:tensor/target/classes \
 *   dev.interlayer.quant.GptqTiming [layers=12]
 * </pre>
 */
public final class GptqTiming {
    private GptqTiming() {
    }

    public static void main(String[] args) {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        Layer layer = Layer.random(1);
        int d = Layer.D, ff = Layer.FF;
        double[] h384 = layer.h384(), h1536 = layer.h1536();
        float[] wSq = layer.wSq(), wUp = layer.wUp(), wDown = layer.wDown();
        QuantScheme s = QuantScheme.of(GridKind.ASYM_ZERO, 4, 128);
        GptqOptions opt = GptqOptions.DEFAULT.withActOrder(true).withStaticGroups(true);
        for (int warm = 0; warm < 2; warm++) {
            Gptq.quantize(wUp, ff, d, h384, s, opt);
            Gptq.quantize(wDown, d, ff, h1536, s, opt);
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime(), t0 = System.nanoTime();
        long sq = 0, up = 0, down = 0;
        for (int l = 0; l < layers; l++) {
            long a = System.nanoTime();
            for (int k = 0; k < 4; k++) {
                Gptq.quantize(wSq, d, d, h384, s, opt);
            }
            long b = System.nanoTime();
            Gptq.quantize(wUp, ff, d, h384, s, opt);
            long c = System.nanoTime();
            Gptq.quantize(wDown, d, ff, h1536, s, opt);
            long e = System.nanoTime();
            sq += b - a;
            up += c - b;
            down += e - c;
        }
        double total = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        System.out.printf("process CPU %.2f s (%.3f s/layer), threads %d%n", cpu, cpu / layers,
                dev.interlayer.tensor.ComputePool.threads());
        System.out.printf("GPTQ %d layers: %.2f s total, %.3f s/layer (4x 384x384 %.3f s, 1536x384 %.3f s, 384x1536 %.3f s)%n",
                layers, total, total / layers, sq / 1e9 / layers, up / 1e9 / layers, down / 1e9 / layers);
    }

    /** One encoder layer's linears (384 wide, MLP 1536) and the Hessians of their two input widths, seeded. */
    record Layer(double[] h384, double[] h1536, float[] wSq, float[] wUp, float[] wDown) {
        static final int D = 384, FF = 1536;

        static Layer random(long seed) {
            var r = new SplittableRandom(seed);
            double[] h384 = Rand.hessian(cheapActivations(r, 4 * D, D), 4 * D, D);
            double[] h1536 = Rand.hessian(cheapActivations(r, 4 * FF, FF), 4 * FF, FF);
            return new Layer(h384, h1536, Rand.weights(r, D, D), Rand.weights(r, FF, D), Rand.weights(r, D, FF));
        }
    }

    // correlated activations in O(n·d): column j of unit Gaussians z mixed with two others, times a log-normal scale
    private static float[] cheapActivations(SplittableRandom r, int n, int d) {
        float[] z = Rand.gaussian(r, n * d, 1.0), x = new float[n * d];
        float[] logScale = Rand.gaussian(r, d, 1.0);
        for (int i = 0; i < x.length; i++) {
            int row = i - i % d, j = i % d;
            double mixed = z[i] + 0.6 * z[row + (7 * j + 1) % d] + 0.3 * z[row + (j + d / 2) % d];
            x[i] = (float) (mixed * Math.exp(logScale[j]));
        }
        return x;
    }
}
