package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decode path of a quantized linear layer ({@link Ops#matmulT} with x [1, k] and a block-quantized
 * w) allocates nothing per call once compiled, on 1 and 2 threads: measured with the calling thread's
 * allocation counter over 200 calls, after warming up in rounds until a round allocates (almost)
 * nothing or a deadline passes (until C2 compiles them, Vector API calls box vectors on the heap).
 * Bound: 32 bytes per call on average, far below one leaked Tensor view, lambda or buffer (≥ 40 B each).
 */
class QuantDecodeAllocationTest {
    private static final long BOUND_PER_CALL = 32, DEADLINE_NANOS = 20_000_000_000L;

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void decodeMatmulAllocatesNothing(int threads) {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        int before = ComputePool.threads();
        ComputePool.setThreads(threads);
        try {
            Random r = new Random(9);
            Tensor[] ws = new Tensor[4];
            DType[] types = {DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K};
            int n = 512, k = 512;
            for (int i = 0; i < ws.length; i++) {
                ws[i] = Tensor.of(types[i], Shape.of(n, k), QuantTestData.randomRows(types[i], n, k, r));
            }
            Tensor x = Tensor.wrap(QuantTestData.gaussian(k, r), Shape.of(1, k)), out = Tensor.zeros(1, n);
            long start = System.nanoTime(), perCall = Long.MAX_VALUE;
            while (System.nanoTime() - start < DEADLINE_NANOS) {
                long a0 = mx.getCurrentThreadAllocatedBytes();
                for (int c = 0; c < 200; c++) {
                    Ops.matmulT(x, ws[c & 3], out);
                }
                perCall = (mx.getCurrentThreadAllocatedBytes() - a0) / 200;
                if (perCall <= BOUND_PER_CALL) {
                    break;
                }
            }
            StringBuilder detail = new StringBuilder();
            for (int i = 0; i < ws.length && perCall > BOUND_PER_CALL; i++) {
                long a0 = mx.getCurrentThreadAllocatedBytes();
                Ops.matmulT(x, ws[i], out);
                detail.append(types[i]).append(": ").append(mx.getCurrentThreadAllocatedBytes() - a0).append(" B; ");
            }
            assertTrue(perCall <= BOUND_PER_CALL,
                    threads + " threads: " + perCall + " bytes per decode matmul " + detail);
        } finally {
            ComputePool.setThreads(before);
        }
    }
}
