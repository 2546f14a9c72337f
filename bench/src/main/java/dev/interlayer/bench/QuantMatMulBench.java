package dev.interlayer.bench;

import dev.interlayer.bench.Counters.Bytes;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.Quantizer;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Quantized products out[m, rows] = x[m, cols]·w[rows, cols]ᵀ through {@link Ops#matmulT} with the
 * weight block-quantized off-heap (as a mapped GGUF tensor is): m = 1 is decode, larger m a prefill
 * chunk. Next to it the streaming read of the same bytes (the bandwidth ceiling). The {@code bytes}
 * counter is weight bytes read per second: divide by 1e9 for GB/s.
 */
public class QuantMatMulBench extends WeightBench {
    /** One quantized weight matrix "rows x cols" and m activation rows. */
    @Param({"2048x2048", "8192x2048"})
    String shape;
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    String format;
    @Param({"1", "16"})
    int m;

    @Setup(Level.Trial)
    public void setup() {
        int[] d = open(shape);
        int rows = d[0], cols = d[1];
        DType t = DType.valueOf(format);
        long rowBytes = t.byteSize(cols);
        MemorySegment seg = arena.allocate(rows * rowBytes, 64);
        Random r = new Random(3);
        float[] row = new float[cols];
        for (int j = 0; j < rows; j++) {
            for (int i = 0; i < cols; i++) {
                row[i] = (float) (r.nextGaussian() * 0.02);
            }
            Quantizer.quantizeRow(t, row, 0, cols, seg, j * rowBytes);
        }
        weights(Tensor.of(t, Shape.of(rows, cols), seg.asReadOnly()));
        x = BenchData.activations(4, m, cols);
        out = Tensor.zeros(m, rows);
    }

    @Benchmark
    public Tensor matmulT(Bytes b) {
        b.bytes += weightBytes;
        return Ops.matmulT(x, w, out);
    }
}
