package dev.interlayer.tensor.quant;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.sun.management.ThreadMXBean;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.vector.CompactTilesCheck;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Reproduces issue #12's boxing decode tiles in one JVM: runs the tensor suite's test classes that precede the
 * quantized ones (GEMM, float formats, views; by the JUnit launcher, in this JVM), then
 * {@link QuantDecodeAllocationTest}'s own pollution, then measures bytes allocated per 512×512 decode product
 * ({@code Ops.matmulT}, one thread) of each tile format, and {@link CompactTilesCheck#check} (the written-out
 * Q4_0 and Q6_K tiles against the compact ones, in the same JVM). Not a test (1-2 minutes of CPU): run by hand,
 *
 * <pre>
 * mvn -q -B -o -pl tensor test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -XX:+UseParallelGC \
 *   -cp tensor/target/test-classes:tensor/target/classes:$(cat /tmp/cp.txt) \
 *   dev.interlayer.tensor.quant.PollutedDecodeProbe [rounds [class,class,...]]
 * </pre>
 *
 * <p>Measured (JDK 25, AVX-512, 2026-12-07) with the written-out tiles: in a fresh JVM every format 0 B/call; after the
 * suite's classes and the pollution, Q4_0 (block-scale tile) 1.10-1.40 MB/call and Q6_K (512-bit tile) 0.68-1.34
 * MB/call, 3-7x slower, in each of five runs; Q8_0 and Q4_K 0 there, but Q4_K 1.03 MB/call in a later run. Either alone
 * (the suite's classes, or the pollution) did not reproduce it. With the compact tiles: Q4_0 and Q6_K 0 B/call in the
 * same polluted JVM. Diagnosis (LogCompilation, PrintInlining, JFR allocation samples): both tiles parse past C2's
 * NodeCountInliningCutoff (18 000 nodes; a develop flag, so no product JVM option moves it) in fresh and polluted JVMs
 * alike (far2Wide at bytecode 383-386 of 851, far8 at 739-757 of 1560). Force-inline Vector API methods met after that
 * are inlined late, devirtualized by the receiver type profiles of the Vector API's shared call sites ({@code
 * AbstractVector.reinterpretAsInts}, {@code IntVector.lanewise(Binary, int)}, {@code FloatVector.fma}); where those
 * have seen other shapes the inlined code merges vectors of different classes or calls out, and the vectors are boxed:
 * the samples sit in {@code FloatVector.lanewiseTemplate} (fma), {@code IntVector.lanewiseShiftTemplate}, {@code
 * IntVector.lanewiseTemplate} (and) and {@code AbstractVector.convert0}.
 */
public final class PollutedDecodeProbe {
    private static final DType[] TYPES = {DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K};
    private static final String SUITE = "BadInputTest,ComputePoolTest,ConcurrentCallersTest,EmbeddingNativeTableTest,"
            + "ErfTest,FloatFormatsTest,KernelSelectionTest,MatMulTest,RowExactMatMulTest,ShapeTest,"
            + "SharedInputGemmsTest,TensorViewTest,quant.GgufPyFixturesTest,quant.LowBitKQuantizerTest";

    private PollutedDecodeProbe() {
    }

    public static void main(String[] args) throws ClassNotFoundException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        String classes = args.length > 1 ? args[1] : SUITE;
        List<DiscoverySelector> selectors = new ArrayList<>();
        for (String c : classes.split(",")) {
            if (!c.isBlank()) {
                selectors.add(selectClass(Class.forName("dev.interlayer.tensor." + c.strip())));
            }
        }
        long t0 = System.nanoTime();
        if (!selectors.isEmpty()) {
            SummaryGeneratingListener summary = new SummaryGeneratingListener();
            LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectors).build(),
                    summary);
            System.out.printf("suite classes: %d tests passed, %d failed%n",
                    summary.getSummary().getTestsSucceededCount(), summary.getSummary().getTestsFailedCount());
        }
        QuantDecodeAllocationTest.pollute(new Random(9));
        System.out.printf("pollution done in %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);
        ComputePool.setThreads(1);
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random r = new Random(9);
        int n = 512, k = 512;
        Tensor[] ws = new Tensor[TYPES.length];
        for (int i = 0; i < ws.length; i++) {
            ws[i] = Tensor.of(TYPES[i], Shape.of(n, k), QuantTestData.randomRows(TYPES[i], n, k, r));
        }
        Tensor x = Tensor.wrap(QuantTestData.gaussian(k, r), Shape.of(1, k)), out = Tensor.zeros(1, n);
        for (int round = 1; round <= rounds; round++) {
            StringBuilder line = new StringBuilder("round " + round + ":");
            for (int i = 0; i < ws.length; i++) {
                long a0 = mx.getCurrentThreadAllocatedBytes(), c0 = System.nanoTime();
                for (int c = 0; c < 50; c++) {
                    Ops.matmulT(x, ws[i], out);
                }
                line.append(String.format(" %s %d B/call %d us;", TYPES[i],
                        (mx.getCurrentThreadAllocatedBytes() - a0) / 50, (System.nanoTime() - c0) / 50_000));
            }
            if (round % 25 == 0 || round == rounds) {
                System.out.println(line);
            }
        }
        System.out.println(CompactTilesCheck.check(rounds));
        System.out.println(dev.interlayer.tensor.quant.vector.Q80TilesCheck.check(rounds));
        System.exit(0);        // the compute pool's workers would keep the JVM alive
    }
}
