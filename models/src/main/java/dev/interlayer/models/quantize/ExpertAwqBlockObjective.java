package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * llm-awq's objective for the joint MoE input scale ({@link ExpertAwqScale}, opt-in with {@code --awq-objective block}
 * or {@code block-float}): a candidate s is scored on the output of the whole layer, run by the engine with s folded
 * ({@link ExpertAwqScale#fold}: norm, router, shared gate) and the candidate's quantized {@code W·diag(s)} in every
 * scored expert and the shared expert, as the mean squared difference {@code Σ_t ‖y_t − y_t^ref‖² / (tokens·d)} of
 * the layer's outputs on the calibration states. The reference is the same layer with the FFN unquantized on the same
 * inputs (block) or the unquantized model's layer on its own inputs (block-float, error propagation's target). The
 * router sees the candidate's rounded fold, so a token whose top-k choice flips counts too. Experts without
 * calibration tokens compute with their float {@code W·diag(s)}: no row reaches them.
 */
final class ExpertAwqBlockObjective implements Awq.Objective {
    private final GgufFile file;
    private final Map<String, Tensor> replaced;
    private final int layer;
    private final float[] x;
    private final int window;
    private final List<String> names;
    private final List<Integer> experts;
    private final float[] ref;

    /**
     * @param replaced what layer {@code l} runs with so far (copied; its FFN unscaled and unquantized)
     * @param x        the calibration states entering the layer in the quantized model
     * @param xf       the same tokens' states in the unquantized model (block-float), or null (block)
     * @param names    the tensor of each scored linear, in the order of {@link Awq.Objective#loss}'s list
     * @param experts  each scored linear's expert index in its 3-D tensor, −1 for a 2-D (shared expert) tensor
     */
    ExpertAwqBlockObjective(GgufFile file, Map<String, Tensor> replaced, int l, float[] x, float[] xf, int win,
                            List<String> names, List<Integer> experts) {
        this.file = file;
        this.replaced = Map.copyOf(replaced);
        this.layer = l;
        this.x = x;
        this.window = win;
        this.names = names;
        this.experts = experts;
        this.ref = output(xf != null ? Map.of() : this.replaced, xf != null ? xf : x);
    }

    @Override
    public double loss(double[] s, List<QuantizedLinear> scaled) {
        Map<String, Tensor> m = new HashMap<>(replaced);
        ExpertAwqScale.fold(file, layer, s, m, null);
        Map<String, float[]> values = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            float[] w = values.computeIfAbsent(name, k -> m.get(k).toFloatArray());
            float[] q = scaled.get(i).dequantize();
            int e = experts.get(i);
            System.arraycopy(q, 0, w, e < 0 ? 0 : e * q.length, q.length);
        }
        values.forEach((name, w) -> m.put(name, Tensor.wrap(w, m.get(name).shape())));
        float[] y = output(m, x);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            double d = (double) y[i] - ref[i];
            sum += d * d;
        }
        return sum / y.length;
    }

    // layer l's output on a copy of `in`, with `weights` served in place of the file's
    private float[] output(Map<String, Tensor> weights, float[] in) {
        float[] y = in.clone();
        try {
            Calibration.decoderBlocks(SequentialQuantizer.block(file, weights, layer), y, window, 64, null, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return y;
    }
}
