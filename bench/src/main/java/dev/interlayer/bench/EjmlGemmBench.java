package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Flops;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.ejml.concurrency.EjmlConcurrency;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.ejml.dense.row.CommonOps_MT_FDRM;
import org.ejml.dense.row.RandomMatrices_FDRM;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Pure-Java peer: EJML single-precision c = a·bᵀ (CommonOps_FDRM.multTransB; the _MT_ variant on
 * EJML's own pool for 2 threads), same shapes as {@link GemmBench#square}. {@code flop} per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Benchmark)
public class EjmlGemmBench {
    @Param({"256", "512", "1024", "2048"})
    int size;
    @Param({"1", "2"})
    int threads;
    FMatrixRMaj a, b, c;

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(7);
        a = RandomMatrices_FDRM.rectangle(size, size, -1, 1, r);
        b = RandomMatrices_FDRM.rectangle(size, size, -1, 1, r);
        c = new FMatrixRMaj(size, size);
        EjmlConcurrency.setMaxThreads(threads);
    }

    @Benchmark
    public FMatrixRMaj multTransB(Flops f) {
        f.flop += 2L * size * size * size;
        if (threads == 1) {
            CommonOps_FDRM.multTransB(a, b, c);
        } else {
            CommonOps_MT_FDRM.multTransB(a, b, c);
        }
        return c;
    }
}
