package dev.interlayer.quant;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link CalibrationSink} that keeps, per linear name, the statistics the quantizers need: the GPTQ
 * Hessian {@code 2XᵀX/N} (optional: {@code dIn²} doubles per layer and {@code O(N·dIn²)} work) and the
 * per-column {@link ActivationStats} (AWQ's mean |x|, the importance matrix's mean x²). Accumulators are
 * created on a layer's first batch; a later batch with another width is an error. Layers that share one
 * input (q, k, v) can be fed under one name. Not thread-safe.
 */
public final class CalibrationStats implements CalibrationSink {
    private final boolean hessians;
    private final Map<String, HessianAccumulator> h = new TreeMap<>();
    private final Map<String, ActivationStats> a = new TreeMap<>();

    /** Collects activation statistics, and Hessians too if {@code hessians}. */
    public CalibrationStats(boolean hessians) {
        this.hessians = hessians;
    }

    @Override
    public void accept(String linearName, float[] rows, int n, int dIn, boolean[] keep) {
        ActivationStats st = a.computeIfAbsent(linearName, k -> new ActivationStats(dIn));
        if (st.dIn() != dIn) {
            throw new IllegalArgumentException("CalibrationStats: layer '" + linearName + "' was seen with input width "
                    + st.dIn() + ", now " + dIn);
        }
        st.accept(rows, n, keep);
        if (hessians) {
            h.computeIfAbsent(linearName, k -> new HessianAccumulator(dIn)).accept(rows, n, keep);
        }
    }

    /** The activation statistics by layer name (sorted, read-only view). */
    public Map<String, ActivationStats> activations() {
        return Collections.unmodifiableMap(a);
    }

    /**
     * The Hessian accumulator of {@code linearName}.
     *
     * @throws IllegalArgumentException if Hessians are not collected or the layer was never seen
     */
    public HessianAccumulator hessian(String linearName) {
        HessianAccumulator acc = h.get(linearName);
        if (acc == null) {
            throw new IllegalArgumentException(hessians ? "CalibrationStats: no data for layer '" + linearName
                    + "' (seen: " + h.keySet() + ")" : "CalibrationStats: Hessians were not collected");
        }
        return acc;
    }
}
