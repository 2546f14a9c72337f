package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.interlayer.tensor.ChildJvm;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decode path of a quantized linear layer ({@link Ops#matmulT} with x [1, k] and a block-quantized
 * w) allocates nothing per call once compiled, on 1 and 2 threads, measured with the allocation counters of the
 * calling thread and of the compute pool's workers.
 *
 * <p>The measurement runs in a JVM of its own ({@link ChildJvm}), as a model runs in the CLI's JVM. Before measuring,
 * the kernels run on other shapes, row counts, batch sizes and heap weights, as prefill, batched decode and the other
 * formats of a mixed file do: the JIT profiles of the shared tiles and of the Vector API are then as polluted as an
 * engine's own work makes them (that is where the kernels once boxed every vector, 10 MB per call, while passing when
 * run alone). {@link #decodeMatmulAllocatesNothingInThisJvm} runs the same check in the suite's JVM after the unrelated
 * tests before it (GEMM, float formats, other vector shapes): there C2 had compiled Q6_K's written-out two-row 512-bit
 * tile and Q4_0's eight-row block-scale tile into code that boxed their vectors (0.7–1.4 MB per 512×512 call): both
 * parsed past C2's NodeCountInliningCutoff, and the Vector API calls met after it were inlined late through the Vector
 * API's own, by then polluted, type profiles ({@link PollutedDecodeProbe} reproduces and explains it). The tiles now
 * stay within that budget. Until C2 has compiled the tiles, Vector API calls box vectors on the heap; so the probe
 * polls: rounds of {@link #CALLS} calls per format, until {@link #CLEAN_ROUNDS} consecutive rounds stay within {@link
 * #BOUND_PER_CALL} for every format, or a deadline generous enough for a loaded machine passes (a kernel that allocates
 * per call never gets there). Bound: 32 bytes per call on average, far below one leaked Tensor view, lambda or buffer
 * (≥ 40 B each).
 */
class QuantDecodeAllocationTest {
    private static final long BOUND_PER_CALL = 32, DEADLINE_NANOS = 120_000_000_000L;
    private static final int CALLS = 50, CLEAN_ROUNDS = 5;
    private static final DType[] TYPES = {DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K};
    /**
     * The formats whose decode tiles stay within C2's parse budget, checked in this JVM too (Q8_0: {@code Q80Tiles},
     * the four-row groups). Q4_K's written-out tile (about 19 000 parse nodes, just past the cutoff near the end of
     * its loop) does not yet: it boxed (1.0 MB per call) in one of the polluted JVMs of {@link PollutedDecodeProbe}.
     */
    private static final DType[] FIXED = {DType.Q8_0, DType.Q4_0, DType.Q6_K};

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void decodeMatmulAllocatesNothing(int threads) throws IOException, InterruptedException {
        String out = ChildJvm.run(QuantDecodeAllocationTest.class, List.of(), 600, List.of(String.valueOf(threads)));
        assertTrue(out.contains("clean: "), out);
        System.out.println(out.strip());
    }

    /**
     * The same check in this JVM, after whatever ran in it before (in the tensor suite: the GEMM, float-format and
     * view tests, then the quantized ones), which is where the written-out Q4_0 and Q6_K tiles once boxed (see
     * {@link PollutedDecodeProbe}); run alone it is the child's check in a fresh JVM.
     */
    @Test
    void decodeMatmulAllocatesNothingInThisJvm() {
        String out = measure(1, FIXED);
        assertTrue(out.startsWith("clean: "), out);
        System.out.println(out);
    }

    /** The probe: {@code args[0]} compute threads; prints "clean: …" and exits with 0, or "not clean: …" and 1. */
    public static void main(String[] args) {
        String out = measure(Integer.parseInt(args[0]), TYPES);
        System.out.println(out);
        System.exit(out.startsWith("clean: ") ? 0 : 1);        // the pool's workers would keep the JVM alive
    }

    /**
     * Pollutes, then polls (see the class comment) the formats {@code types} on {@code threads} compute threads:
     * "clean: …" or "not clean: …".
     */
    static String measure(int threads, DType[] types) {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        int before = ComputePool.threads();
        ComputePool.setThreads(threads);
        try {
            Random r = new Random(9);
            pollute(r);
            int n = 512, k = 512;
            Tensor[] ws = new Tensor[types.length];
            for (int i = 0; i < ws.length; i++) {
                ws[i] = Tensor.of(types[i], Shape.of(n, k), QuantTestData.randomRows(types[i], n, k, r));
            }
            Tensor x = Tensor.wrap(QuantTestData.gaussian(k, r), Shape.of(1, k)), out = Tensor.zeros(1, n);
            long start = System.nanoTime();
            long[] perCall = new long[ws.length];
            int clean = 0, rounds = 0;
            while (clean < CLEAN_ROUNDS && System.nanoTime() - start < DEADLINE_NANOS) {
                boolean ok = true;
                long[] ids = kernelThreads(mx);
                for (int i = 0; i < ws.length; i++) {
                    long a0 = allocated(mx, ids);
                    for (int c = 0; c < CALLS; c++) {
                        Ops.matmulT(x, ws[i], out);
                    }
                    perCall[i] = (allocated(mx, ids) - a0) / CALLS;
                    ok &= perCall[i] <= BOUND_PER_CALL;
                }
                clean = ok ? clean + 1 : 0;
                rounds++;
            }
            StringBuilder detail = new StringBuilder();
            for (int i = 0; i < ws.length; i++) {
                detail.append(types[i]).append(": ").append(perCall[i]).append(" B/call; ");
            }
            String summary = threads + " threads, " + rounds + " rounds in "
                    + (System.nanoTime() - start) / 1_000_000 + " ms, last round: " + detail;
            return (clean < CLEAN_ROUNDS ? "not clean: " : "clean: ") + summary;
        } finally {
            ComputePool.setThreads(before);
        }
    }

    /** The calling thread and the compute pool's workers (where the kernels run with more than one thread). */
    private static long[] kernelThreads(ThreadMXBean mx) {
        long self = Thread.currentThread().threadId();
        return LongStream.concat(LongStream.of(self),
                Arrays.stream(mx.getThreadInfo(mx.getAllThreadIds()))
                        .filter(t -> t != null && t.getThreadName().startsWith("interlayer-compute-"))
                        .mapToLong(ThreadInfo::getThreadId)).toArray();
    }

    /** Bytes allocated so far by the threads ids (a thread that has ended counts 0). */
    private static long allocated(ThreadMXBean mx, long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += Math.max(0, mx.getThreadAllocatedBytes(id));
        }
        return sum;
    }

    /**
     * Every format's kernels on shapes unlike the measured one: odd row counts (tile remainders), other k, batched
     * m (2..16) and prefill m, off-heap and heap weights; and the Vector API's shape conversions with parts other
     * than 0 (as other kernels and widths in a suite JVM take them), whose code the tiles share.
     */
    static void pollute(Random r) {
        byte[] b = new byte[64];
        r.nextBytes(b);
        float sink = 0;
        for (int i = 0; i < 20_000; i++) {
            ByteVector v = ByteVector.fromArray(ByteVector.SPECIES_128, b, i & 31);
            int part = i & 1;
            sink += ((FloatVector) v.convertShape(VectorOperators.B2F, FloatVector.SPECIES_256, part)).lane(0);
            sink += ((IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_256, part)).lane(1);
            sink += ((FloatVector) v.convertShape(VectorOperators.B2F, FloatVector.SPECIES_128, 3 * part)).lane(2);
        }
        assertTrue(!Float.isNaN(sink));
        int[][] shapes = {{37, 256}, {8, 768}, {101, 512}, {3, 1024}};
        int[] ms = {1, 2, 3, 5, 16, 21};
        for (int rep = 0; rep < 3; rep++) {
            for (DType t : TYPES) {
                for (int[] nk : shapes) {
                    int n = nk[0], k = nk[1];
                    var bytes = QuantTestData.randomRows(t, n, k, r);
                    Tensor off = Tensor.of(t, Shape.of(n, k), bytes);
                    Tensor heap = Tensor.of(t, Shape.of(n, k), QuantTestData.onHeap(bytes));
                    for (int m : ms) {
                        Tensor x = Tensor.wrap(QuantTestData.gaussian(m * k, r), Shape.of(m, k));
                        Tensor out = Tensor.zeros(m, n);
                        Ops.matmulT(x, off, out);
                        Ops.matmulT(x, heap, out);
                    }
                }
            }
        }
    }
}
