package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link QuantizedLinear#stackRows} and {@link QuantizedLinear#rowRange}: a stack of experts is its parts one above the
 * other (values, codes and bits per weight), taking it apart gives the parts back, and parts that do not stack are
 * refused.
 */
class QuantizedLinearStackTest {
    @Test
    void stackingIsConcatenationOfRowsAndRowRangeUndoesIt() {
        SplittableRandom rnd = new SplittableRandom(13);
        for (GridKind kind : List.of(GridKind.ASYM_OFFSET, GridKind.SYM_SIGNED_MAX)) {
            QuantScheme s = QuantScheme.of(kind, 4, 32);
            for (int[] rows : new int[][] {{1}, {3, 1, 5}, {0, 2}, {7, 7, 7, 7}}) {
                int cols = 96;
                List<QuantizedLinear> parts = new ArrayList<>();
                float[] all = new float[0];
                for (int r : rows) {
                    float[] w = new float[r * cols];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = (float) rnd.nextGaussian();
                    }
                    QuantizedLinear q = Rtn.quantize(w, r, cols, s);
                    parts.add(q);
                    float[] v = q.dequantize();
                    all = Arrays.copyOf(all, all.length + v.length);
                    System.arraycopy(v, 0, all, all.length - v.length, v.length);
                }
                QuantizedLinear st = QuantizedLinear.stackRows(parts);
                assertEquals(Arrays.stream(rows).sum(), st.rows());
                assertArrayEquals(all, st.dequantize(), kind + " " + Arrays.toString(rows));
                // every part with rows stores the same bits per weight (a part of 0 rows has none: NaN)
                assertEquals(parts.get(rows.length - 1).bitsPerWeight(), st.bitsPerWeight(), 1e-12);
                for (int i = 0, r0 = 0; i < rows.length; r0 += rows[i++]) {
                    assertEquals(parts.get(i), st.rowRange(r0, r0 + rows[i]), "part " + i);
                }
            }
        }
    }

    @Test
    void partsThatDoNotStackAreRefused() {
        float[] w = new float[2 * 64];
        Arrays.fill(w, 0.5f);
        QuantizedLinear a = Rtn.quantize(w, 2, 64, QuantScheme.of(GridKind.ASYM_OFFSET, 4, 32));
        QuantizedLinear b = Rtn.quantize(w, 4, 32, QuantScheme.of(GridKind.ASYM_OFFSET, 4, 32));
        QuantizedLinear c = Rtn.quantize(w, 2, 64, QuantScheme.of(GridKind.SYM_SIGNED_MAX, 4, 32));
        assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.stackRows(List.of(a, b)));
        assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.stackRows(List.of(a, c)));
        assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.stackRows(List.of()));
        assertThrows(IllegalArgumentException.class, () -> a.rowRange(1, 3));
        assertThrows(IllegalArgumentException.class, () -> a.rowRange(2, 1));
    }
}
