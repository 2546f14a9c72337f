package dev.interlayer.quant;

/**
 * Receives the input activations of named linear layers as calibration data streams through a model. A
 * forward hook in {@code nn} calls {@link #accept} once per linear per batch, before the matrix product, with
 * the batch's rows {@code X[n, dIn]} (one row per token); statistics accumulators ({@link HessianAccumulator},
 * {@link ActivationStats}, whose squared means are the importance matrix) sit behind it, keyed by layer name (for MoE experts: one name per expert, and
 * only the rows routed to it).
 */
@FunctionalInterface
public interface CalibrationSink {
    /**
     * Offers {@code n} activation rows of layer {@code linearName}.
     * Shapes: {@code rows [n, dIn]} row-major (only the first {@code n·dIn} values are read);
     * {@code keep [n]} or null: rows with {@code keep[t] == false} (padding tokens) are ignored.
     * The sink must not keep a reference to {@code rows} (the caller reuses the buffer).
     */
    void accept(String linearName, float[] rows, int n, int dIn, boolean[] keep);
}
