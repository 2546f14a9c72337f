package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapeTest {
    @Test
    void negativeAxesCountFromTheEnd() {
        Shape s = Shape.of(2, 3, 4);
        assertEquals(4, s.dim(-1));
        assertEquals(3, s.dim(-2));
        assertEquals(2, s.dim(-3));
        assertEquals(0, s.axis(-3));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> s.dim(-4));
        assertTrue(e.getMessage().contains("axis -4") && e.getMessage().contains("rank 3"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> s.dim(3));
    }

    @Test
    void sizeOverflowIsRejected() {
        // 2^31-1 cubed exceeds 2^63-1.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
        assertTrue(e.getMessage().contains("2^63"), e.getMessage());
        assertEquals((long) Integer.MAX_VALUE * Integer.MAX_VALUE, Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE).size());
    }

    @Test
    void negativeDimsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(3, -1));
        assertTrue(e.getMessage().contains("negative") && e.getMessage().contains("[3, -1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.ofLong(3, -1));
        assertThrows(IllegalArgumentException.class, () -> Shape.ofLong(1L << 31));
    }

    @Test
    void valueSemantics() {
        int[] d = {2, 3};
        Shape s = Shape.of(d);
        d[0] = 9; // defensive copy on the way in
        assertEquals(Shape.of(2, 3), s);
        s.dims()[0] = 9; // and on the way out
        assertEquals(2, s.dim(0));
        assertEquals(Shape.of(2, 3).hashCode(), s.hashCode());
        assertNotEquals(Shape.of(3, 2), s);
        assertEquals("[2, 3]", s.toString());
        assertEquals(1, Shape.scalar().size());
        assertEquals(0, Shape.of(4, 0, 5).size());
        assertArrayEquals(new long[] {12, 4, 1}, Shape.of(2, 3, 4).contiguousStrides());
        assertEquals(Shape.of(2, 7, 4), Shape.of(2, 3, 4).with(-2, 7));
    }
}
