package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code Ops.embedding} from an F32 table in native (mapped-like, read-only) memory, the path a decode
 * step takes for a checkpoint's token or position table: rows equal the scalar oracle's exactly (a
 * lookup is a copy) for widths 1, odd and vector-sized, ids at both ends and repeated, and an id
 * outside the table still fails with the oracle's exception type.
 */
class EmbeddingNativeTableTest {

    @Test
    void nativeF32TableRowsEqualTheOracle() {
        SplittableRandom rng = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared()) {
            for (int d : new int[] {1, 7, 16, 33, 130}) {
                int vocab = 11;
                float[] values = new float[vocab * d];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rng.nextGaussian();
                }
                Tensor heap = Tensor.wrap(values, Shape.of(vocab, d));
                Tensor nat = Tensor.allocate(arena, DType.F32, heap.shape());
                nat.copyFrom(heap);
                Tensor table = Tensor.of(DType.F32, heap.shape(), nat.segment().asReadOnly());
                int[] ids = {0, vocab - 1, 3, 3, 5};
                Tensor want = Tensor.zeros(ids.length, d), got = Tensor.zeros(ids.length, d);
                Kernels.scalar().embedding(heap, ids, want);
                Ops.embedding(table, ids, got);
                assertArrayEquals(want.toFloatArray(), got.toFloatArray(), "d=" + d);
                Tensor out = Tensor.zeros(1, d);
                Class<? extends Throwable> oracle = assertThrows(RuntimeException.class,
                        () -> Kernels.scalar().embedding(heap, new int[] {vocab}, out)).getClass();
                assertThrows(oracle, () -> Ops.embedding(table, new int[] {vocab}, out));
            }
        }
    }
}
