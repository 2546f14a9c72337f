package dev.interlayer.nn;

/**
 * Per-session key/value cache for every attention layer, preallocated for the full context length.
 * Entries are post-RoPE (and post-QK-norm) keys and values, one row per position.
 *
 * <p>Shapes: keys(l), values(l): [contextLength, kvDim(l)] row-major. {@link #length()} positions are
 * valid; attention layers write the next chunk at rows [length, length + T) and the owner calls
 * {@link #advance(int)} once after all layers ran. Mutable; one thread owns it.
 */
public final class KvCache {
    private final int contextLength;
    private final int[] kvDims;
    private final float[][] keys;   // [layers][contextLength * kvDim]
    private final float[][] values; // [layers][contextLength * kvDim]
    private int length;

    /**
     * A zeroed cache for layers with the given KV widths (Hkv·dh each).
     *
     * @throws IllegalArgumentException if a size is not positive or the cache would exceed 2^31 floats per layer
     */
    public KvCache(int contextLength, int... kvDims) {
        if (contextLength < 1 || kvDims.length == 0) {
            throw new IllegalArgumentException("KvCache needs contextLength >= 1 and at least one layer, got "
                    + contextLength + " and " + kvDims.length + " layers");
        }
        this.contextLength = contextLength;
        this.kvDims = kvDims.clone();
        this.keys = new float[kvDims.length][];
        this.values = new float[kvDims.length][];
        for (int l = 0; l < kvDims.length; l++) {
            long n = (long) contextLength * kvDims[l];
            if (kvDims[l] < 1 || n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("KvCache layer " + l + ": contextLength " + contextLength
                        + " x kvDim " + kvDims[l] + " is not a valid heap array size");
            }
            keys[l] = new float[(int) n];
            values[l] = new float[(int) n];
        }
    }

    /** Number of valid positions. */
    public int length() {
        return length;
    }

    /** Maximum number of positions. */
    public int contextLength() {
        return contextLength;
    }

    /** Number of layers. */
    public int layers() {
        return kvDims.length;
    }

    /** KV width of layer l. */
    public int kvDim(int layer) {
        return kvDims[layer];
    }

    /** Keys of layer l, [contextLength, kvDim] row-major (mutable; rows ≥ length are scratch). */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Values of layer l, [contextLength, kvDim] row-major. */
    public float[] values(int layer) {
        return values[layer];
    }

    /**
     * Marks {@code tokens} more positions valid (after every layer wrote them).
     *
     * @throws IllegalStateException if that passes the context length
     */
    public void advance(int tokens) {
        requireRoom(tokens);
        length += tokens;
    }

    /**
     * Checks that {@code tokens} more positions fit in the cache.
     *
     * @throws IllegalStateException unless {@code tokens} more positions fit
     */
    public void requireRoom(int tokens) {
        if (tokens < 0 || length + tokens > contextLength) {
            throw new IllegalStateException("positions [" + length + ", " + (length + tokens)
                    + ") are past the context length " + contextLength + " of this session's KV cache");
        }
    }

    /**
     * Rolls back to {@code newLength} positions (speculative decoding, retries); later rows become
     * scratch. @throws IllegalArgumentException unless 0 ≤ newLength ≤ length
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + ": must be in [0, " + length + "]");
        }
        length = newLength;
    }

    /** Empties the cache (same as truncate(0)). */
    public void reset() {
        length = 0;
    }
}
