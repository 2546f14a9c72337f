package dev.interlayer.tensor.quant.vector;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.Quantizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The experiment behind {@link QuantVectorRows}'s choice of the F32 computing style: Q8_0 and Q4_0
 * decode matrix-vector products (rows x k) computed (a) as shipped, F32 activations and one scale FMA
 * per block in the first measurement, dequantized values since (the one-row decode kernels
 * {@link Block32Tiles#q8_0One}, {@link Block32Tiles#q4_0One}), and (b) llama.cpp's way, activations
 * quantized to Q8_0 once per
 * call and int8×int8 products summed in int32 per block (bytes widened to shorts, multiplied, widened
 * to ints, since the Vector API has no byte dot-product operation), then {@code d_w·d_x·Σ} per block.
 * Not a test: run by hand (single thread, best of several runs, weights off-heap):
 *
 * <pre>
 * mvn -q -B -o test-compile -pl tensor
 * java --add-modules jdk.incubator.vector -cp tensor/target/classes:tensor/target/test-classes \
 *   dev.interlayer.tensor.quant.vector.Int8StyleExperiment 4096 4096
 * </pre>
 */
public final class Int8StyleExperiment {
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;

    private Int8StyleExperiment() {
    }

    /** Activations to Q8_0 (ggml's quantize_row_q8_0 rounding): codes in xq, scales in xd. */
    static void quantizeActivations(float[] x, int k, byte[] xq, float[] xd) {
        for (int b = 0; b < k / 32; b++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[32 * b + i]));
            }
            float d = amax / 127, id = d != 0 ? 1 / d : 0;
            xd[b] = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int i = 0; i < 32; i++) {
                xq[32 * b + i] = (byte) Math.round(x[32 * b + i] * id);
            }
        }
    }

    /** Σ_blocks d_w·d_x·Σ q_w·q_x with int32 block sums (512-bit vectors: 32 codes per block at once). */
    static float int8Dot(MemorySegment w, long off, int k, byte[] xq, float[] xd) {
        FloatVector acc = FloatVector.zero(F16);
        for (int b = 0; b < k / 32; b++, off += 34) {
            float dw = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, off));
            ShortVector ws = (ShortVector) ByteVector.fromMemorySegment(B32, w, off + 2, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S32, 0);
            ShortVector xs = (ShortVector) ByteVector.fromArray(B32, xq, 32 * b)
                    .convertShape(VectorOperators.B2S, S32, 0);
            ShortVector p = ws.mul(xs);
            IntVector s = ((IntVector) p.convertShape(VectorOperators.S2I, I16, 0))
                    .add((IntVector) p.convertShape(VectorOperators.S2I, I16, 1));
            acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F16, 0))
                    .fma(FloatVector.broadcast(F16, dw * xd[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;

    /** Q4_0 int8 style: Σ_blocks d_w·d_x·Σ (q_w − 8)·q_x, 16 low and 16 high nibbles widened to shorts. */
    static float int8DotQ4(MemorySegment w, long off, int k, byte[] xq, float[] xd) {
        FloatVector acc = FloatVector.zero(F16);
        for (int b = 0; b < k / 32; b++, off += 18) {
            float dw = Float.float16ToFloat(w.get(ValueLayout.JAVA_SHORT_UNALIGNED, off));
            ByteVector v = ByteVector.fromMemorySegment(B16, w, off + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = v.and((byte) 15).sub((byte) 8);
            ByteVector hi = v.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).sub((byte) 8);
            ShortVector xl = (ShortVector) ByteVector.fromArray(B16, xq, 32 * b)
                    .convertShape(VectorOperators.B2S, S16, 0);
            ShortVector xh = (ShortVector) ByteVector.fromArray(B16, xq, 32 * b + 16)
                    .convertShape(VectorOperators.B2S, S16, 0);
            ShortVector pl = ((ShortVector) lo.convertShape(VectorOperators.B2S, S16, 0)).mul(xl);
            ShortVector ph = ((ShortVector) hi.convertShape(VectorOperators.B2S, S16, 0)).mul(xh);
            IntVector s = ((IntVector) pl.convertShape(VectorOperators.S2I, I16, 0))
                    .add((IntVector) ph.convertShape(VectorOperators.S2I, I16, 0));
            acc = ((FloatVector) s.convertShape(VectorOperators.I2F, F16, 0))
                    .fma(FloatVector.broadcast(F16, dw * xd[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    public static void main(String[] args) {
        run(DType.Q8_0, Integer.parseInt(args[0]), Integer.parseInt(args[1]));
        run(DType.Q4_0, Integer.parseInt(args[0]), Integer.parseInt(args[1]));
    }

    private static void run(DType type, int rows, int k) {
        Random r = new Random(1);
        float[] x = new float[k], row = new float[k];
        for (int i = 0; i < k; i++) {
            x[i] = (float) r.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            long rowBytes = type.byteSize(k);
            MemorySegment w = arena.allocate(rows * rowBytes, 64);
            for (int j = 0; j < rows; j++) {
                for (int i = 0; i < k; i++) {
                    row[i] = (float) r.nextGaussian();
                }
                Quantizer.quantizeRow(type, row, 0, k, w, j * rowBytes);
            }
            byte[] xq = new byte[k];
            float[] xd = new float[k / 32], out = new float[rows], red = new float[QSpecies.VL];
            double bestF32 = 1e9, bestInt8 = 1e9;
            for (int rep = 0; rep < 30; rep++) {
                long t0 = System.nanoTime();
                for (int j = 0; j < rows; j++) {
                    out[j] = type == DType.Q8_0 ? Block32Tiles.q8_0One(w, j * rowBytes, k, x, 0, red)
                            : Block32Tiles.q4_0One(w, j * rowBytes, k, x, 0, red);
                }
                long t1 = System.nanoTime();
                quantizeActivations(x, k, xq, xd);
                for (int j = 0; j < rows; j++) {
                    out[j] += type == DType.Q8_0 ? int8Dot(w, j * rowBytes, k, xq, xd)
                            : int8DotQ4(w, j * rowBytes, k, xq, xd);
                }
                long t2 = System.nanoTime();
                bestF32 = Math.min(bestF32, (t1 - t0) / 1e6);
                bestInt8 = Math.min(bestInt8, (t2 - t1) / 1e6);
            }
            double gb = rows * rowBytes / 1e9;
            System.out.printf("%s %dx%d, 1 thread: F32 style %.2f ms (%.1f GB/s), int8 style %.2f ms (%.1f GB/s)"
                    + " [checksum %.3f]%n", type, rows, k, bestF32, gb / bestF32 * 1e3, bestInt8, gb / bestInt8 * 1e3,
                    out[0]);
        }
    }
}
