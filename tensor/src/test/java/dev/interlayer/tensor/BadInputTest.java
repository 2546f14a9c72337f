package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.kernel.ScalarKernels;
import dev.interlayer.tensor.simd.SimdKernels;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad shapes fail at the entry point with a message naming the op and both shapes, for every implementation. */
class BadInputTest {
    private static final List<Kernels> ALL = List.of(new ScalarKernels(), new SimdKernels(128), new SimdKernels(256),
            new SimdKernels(512));

    private static void assertNames(Executable call, String op, String... shapes) {
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class, call);
        assertTrue(e.getMessage().contains(op), "message should name " + op + ": " + e.getMessage());
        for (String s : shapes) {
            assertTrue(e.getMessage().contains(s), "message should name " + s + ": " + e.getMessage());
        }
    }

    @Test
    void shapeMismatchesNameOpAndShapes() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(4, 3), v5 = Tensor.zeros(5);
        for (Kernels k : ALL) {
            assertNames(() -> k.binary(Binary.ADD, a, b, a), "binary ADD", "[2, 3]", "[4, 3]");
            assertNames(() -> k.binary(Binary.MUL, a, Tensor.zeros(3), b), "binary MUL out", "[2, 3]", "[4, 3]");
            assertNames(() -> k.scale(a, 2f, b), "scale", "[2, 3]", "[4, 3]");
            assertNames(() -> k.axpy(1f, a, b), "axpy", "[2, 3]", "[4, 3]");
            assertNames(() -> k.unary(Unary.SILU, a, b), "unary SILU", "[2, 3]", "[4, 3]");
            assertNames(() -> k.rmsNorm(a, null, 1e-5f, false, b), "rmsNorm", "[2, 3]", "[4, 3]");
            assertNames(() -> k.rmsNorm(a, v5, 1e-5f, false, a), "rmsNorm weight", "[3]", "[5]");
            assertNames(() -> k.layerNorm(a, null, v5, 1e-5f, a), "layerNorm bias", "[3]", "[5]");
            assertNames(() -> k.softmax(a, SoftmaxOptions.NONE, b), "softmax", "[2, 3]", "[4, 3]");
            assertNames(() -> k.logSoftmax(a, SoftmaxOptions.NONE, b), "logSoftmax", "[2, 3]", "[4, 3]");
            assertNames(() -> k.reduce(Reduction.SUM, a, 1, a), "reduce SUM", "[2, 1]", "[2, 3]");
            Rope rope = Rope.standard(4, 4, 10000, Rope.Pairing.HALF_SPLIT);
            assertNames(() -> k.rope(a, rope, new int[] {0, 1}, a), "rope", "[2, 3]", "headDim 4");
            assertNames(() -> k.rope(Tensor.zeros(2, 4), rope, new int[] {0}, Tensor.zeros(2, 4)), "rope", "1 positions");
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> k.dot(new float[4], 2, new float[4], 0, 3));
            assertTrue(e.getMessage().contains("dot") && e.getMessage().contains("length 4"), e.getMessage());
            Tensor s = Tensor.zeros(Shape.scalar());           // no last axis: every row op refuses it
            assertThrows(IndexOutOfBoundsException.class, () -> k.rmsNorm(s, null, 1e-5f, false, s));
            assertThrows(IndexOutOfBoundsException.class, () -> k.layerNorm(s, null, null, 1e-5f, s));
            assertThrows(IndexOutOfBoundsException.class, () -> k.softmax(s, SoftmaxOptions.NONE, s));
            assertThrows(IndexOutOfBoundsException.class, () -> k.logSoftmax(s, SoftmaxOptions.NONE, s));
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> k.reduce(Reduction.MAX, Tensor.zeros(2, 0), -1, Tensor.zeros(2, 1)));
            assertTrue(empty.getMessage().contains("reduce MAX") && empty.getMessage().contains("empty"), empty.getMessage());
        }
    }

    @Test
    void quantizedInputsAreRejectedWithTheDtype() {
        Tensor q = Tensor.zeros(DType.Q8_0, Shape.of(32));
        for (Kernels k : ALL.subList(1, ALL.size())) {
            UnsupportedDTypeException e = assertThrows(UnsupportedDTypeException.class,
                    () -> k.unary(Unary.EXP, q, Tensor.zeros(32)));
            assertTrue(e.getMessage().contains("Q8_0"), e.getMessage());
        }
    }
}
