package dev.interlayer.tensor;

/**
 * Storage geometry of an element type: {@code blockSize} values are stored in {@code blockBytes} bytes (ggml's
 * {@code blck_size} and {@code type_size}); scalar types have a block size of 1 and their element size in bytes.
 * Shared by {@link DType} and the GGUF file types of {@code models}, which implement {@link Typed}.
 *
 * @param blockSize  values per block, at least 1
 * @param blockBytes bytes per block, at least 1
 */
public record BlockGeometry(int blockSize, int blockBytes) {
    /** @throws IllegalArgumentException if either is below 1 */
    public BlockGeometry {
        if (blockSize < 1 || blockBytes < 1) {
            throw new IllegalArgumentException("block geometry needs blockSize >= 1 and blockBytes >= 1, got "
                    + blockSize + " values in " + blockBytes + " bytes");
        }
    }

    /**
     * A type stored in blocks: the geometry's values and the byte size of n elements, answered from
     * {@link #geometry()}.
     */
    public interface Typed {
        /** Values per block and bytes per block. */
        BlockGeometry geometry();

        /** Values per storage block (1 for scalar types). */
        default int blockSize() {
            return geometry().blockSize();
        }

        /** Bytes per storage block (the element size for scalar types). */
        default int blockBytes() {
            return geometry().blockBytes();
        }

        /** True for GGML block-quantized types (more than one value per block). */
        default boolean isQuantized() {
            return blockSize() > 1;
        }

        /**
         * Bytes needed to store {@code elements} values: (elements / blockSize) · blockBytes.
         *
         * @throws IllegalArgumentException if {@code elements} is negative or not a whole number of blocks
         * @throws ArithmeticException on overflow
         */
        default long byteSize(long elements) {
            if (elements < 0) {
                throw new IllegalArgumentException("element count must be >= 0, got " + elements);
            }
            int blockSize = blockSize();
            if (elements % blockSize != 0) {
                throw new IllegalArgumentException(this + " stores blocks of " + blockSize + " values; got "
                        + elements);
            }
            return Math.multiplyExact(elements / blockSize, (long) blockBytes());
        }
    }
}
