package dev.interlayer.bench;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Seeded benchmark inputs: activations on the heap, weights off-heap and read-only, as if mapped from a file. */
final class BenchData {
    private BenchData() {
    }

    /** Gaussian F32 heap tensor. */
    static Tensor activations(long seed, int... dims) {
        var rng = new SplittableRandom(seed);
        Shape s = Shape.of(dims);
        float[] v = new float[Math.toIntExact(s.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return Tensor.wrap(v, s);
    }

    /** Gaussian weights [rows, cols] in {@code dtype}, in a read-only native segment owned by {@code arena}. */
    static Tensor weights(Arena arena, DType dtype, long seed, int rows, int cols) {
        Tensor t = Tensor.allocate(arena, dtype, Shape.of(rows, cols));
        var rng = new SplittableRandom(seed);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t.setFloat((float) (rng.nextGaussian() * 0.05), i, j);
            }
        }
        return Tensor.of(dtype, t.shape(), t.segment().asReadOnly());
    }

    /** Parses "f32" / "bf16" / "f16". */
    static DType dtype(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("weights must be f32, bf16 or f16, got " + name);
        };
    }
}
