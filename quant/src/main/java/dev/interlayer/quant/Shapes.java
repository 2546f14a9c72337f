package dev.interlayer.quant;

/** Argument checks shared by the quantizers; messages name the operation and both shapes. */
final class Shapes {
    private Shapes() {
    }

    static void checkMatrix(String op, int length, int rows, int cols) {
        if (rows < 0 || cols < 0 || (long) rows * cols != length) {
            throw new IllegalArgumentException(op + ": need W[rows, cols] = [" + rows + ", " + cols + "] ("
                    + (long) rows * cols + " values), got " + length + " values");
        }
    }

    static void checkSquare(String op, int length, int n) {
        if ((long) n * n != length) {
            throw new IllegalArgumentException(op + ": need H[" + n + ", " + n + "] (" + (long) n * n
                    + " values) for W with " + n + " columns, got " + length + " values");
        }
    }
}
