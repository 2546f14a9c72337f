package dev.interlayer.tensor;

/**
 * How a row softmax treats its logits, applied in this order: multiply by {@code scale}; soft-cap
 * {@code x = cap·tanh(x/cap)} when {@code softcap > 0}; add {@code additiveMask} (broadcast to the
 * input's shape) when non-null; mask (to -∞) keys that causal or sliding-window rules exclude.
 *
 * <p>Row r of the last two axes is the query at position {@code r + queryOffset}; column c is the
 * key at position c. Causal keeps c ≤ r + queryOffset; a window w &gt; 0 also keeps only
 * c &gt; r + queryOffset - w. A row whose every key is masked yields all zeros (not NaN), which
 * is what a padded query row should contribute.
 *
 * @param scale        multiplier applied first (1 for none)
 * @param softcap      tanh soft-capping constant, 0 for none
 * @param additiveMask tensor broadcastable to the input, or null
 * @param causal       apply the causal rule
 * @param queryOffset  position of row 0 (the number of cached keys before this chunk)
 * @param window       sliding window size, 0 for none
 */
public record SoftmaxOptions(float scale, float softcap, Tensor additiveMask, boolean causal, int queryOffset,
                             int window) {
    /** Plain softmax. */
    public static final SoftmaxOptions NONE = new SoftmaxOptions(1f, 0f, null, false, 0, 0);

    /**
     * Validates the options.
     *
     * @throws IllegalArgumentException if softcap is negative or NaN, or window or queryOffset is negative
     */
    public SoftmaxOptions {
        if (softcap < 0 || Float.isNaN(softcap)) {
            throw new IllegalArgumentException("softcap must be >= 0 (0 = off), got " + softcap);
        }
        if (window < 0) {
            throw new IllegalArgumentException("window must be >= 0 (0 = off), got " + window);
        }
        if (queryOffset < 0) {
            throw new IllegalArgumentException("queryOffset must be >= 0, got " + queryOffset);
        }
    }

    /** Causal softmax for a chunk whose first query is at position {@code queryOffset}. */
    public static SoftmaxOptions causal(int queryOffset) {
        return new SoftmaxOptions(1f, 0f, null, true, queryOffset, 0);
    }

    /** True if key {@code c} is visible to row {@code r} under the causal/window rules. */
    public boolean visible(int r, int c) {
        int q = r + queryOffset;
        if (causal && c > q) {
            return false;
        }
        return window <= 0 || c > q - window;
    }
}
