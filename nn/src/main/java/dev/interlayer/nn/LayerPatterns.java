package dev.interlayer.nn;

/**
 * Per-layer local/global attention patterns: which layers use sliding-window attention, where key j is visible
 * from query i iff pos(i) − W &lt; pos(j) ≤ pos(i) (exactly W keys including the query itself), and which attend
 * globally (Gemma 2 alternates them; Gemma 3 has five local layers per global one).
 */
public final class LayerPatterns {
    private LayerPatterns() {
    }

    /** Gemma 2: layer ℓ is sliding iff ℓ is even. */
    public static boolean[] slidingEveryOther(int layers) {
        requireLayers(layers);
        boolean[] s = new boolean[layers];
        for (int l = 0; l < layers; l++) {
            s[l] = l % 2 == 0;
        }
        return s;
    }

    /** Gemma 3: layer ℓ is sliding iff (ℓ + 1) mod period ≠ 0 (period 6: global layers 5, 11, …). */
    public static boolean[] slidingWithPeriod(int layers, int period) {
        if (period < 1) {
            throw new IllegalArgumentException("sliding_window_pattern must be >= 1, got " + period);
        }
        requireLayers(layers);
        boolean[] s = new boolean[layers];
        for (int l = 0; l < layers; l++) {
            s[l] = (l + 1) % period != 0;
        }
        return s;
    }

    // num_hidden_layers comes from a config file: a clear message instead of NegativeArraySizeException
    private static void requireLayers(int layers) {
        if (layers < 0) {
            throw new IllegalArgumentException("num_hidden_layers must be >= 0, got " + layers);
        }
    }
}
