package dev.interlayer.tensor;

import java.util.Arrays;

/** Thrown when an op does not support a dtype; the message names the op, the dtype and what is supported. */
public final class UnsupportedDTypeException extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception whose message reads "op: dtype X is not supported (supported: [...])".
     *
     * @param op        the op
     * @param got       the dtype received
     * @param supported the dtypes the op accepts
     */
    public UnsupportedDTypeException(String op, DType got, DType... supported) {
        super(op + ": dtype " + got + " is not supported (supported: " + Arrays.toString(supported) + ")");
    }
}
