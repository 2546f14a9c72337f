package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * AWQ's scale objective of llm-awq's {@code auto_scale} (Lin et al., "AWQ", MLSys 2024) for the sites whose scales
 * fold into a norm: a candidate scale s of the q/k/v site is scored on the output of the whole attention block, the
 * gate/up scale on the output of the whole MLP, rather than on each linear's own output. The layer is run by the
 * engine's own block forward ({@link SequentialQuantizer#block}, causal softmax attention with RoPE over the
 * calibration windows) with the site's linears replaced by {@code dequant(quant(W·diag(s)))·diag(s)⁻¹}; the block's
 * output is {@code W_next·a} with {@code a} the next site's input (the attention heads' mix for o, {@code act(gate)·up}
 * for down), so the loss is {@code Σ_t ‖W_next·(a_t − a_t^ref)‖² / (tokens·rows_next)}, the mean squared error of
 * the block output (the residual stream adds the same input to both). {@code W_next} is the float o or down.
 *
 * <p>The reference {@code a^ref} is the same layer with the site's unquantized weights on the same inputs (llm-awq),
 * or, with error propagation, the unquantized model's layer on the unquantized model's inputs (the target that
 * propagation fits the linears to).
 */
final class AwqBlockObjective implements Awq.Objective {
    private final GgufFile file;
    private final Map<String, Tensor> replaced;
    private final int layer;
    private final List<SiteQuantizer.Linear> linears;
    private final float[] x;
    private final int window;
    private final String nextKey;
    private final float[] wNext;
    private final int rowsNext;
    private final int dNext;
    private final float[] ref;

    private AwqBlockObjective(GgufFile file, Map<String, Tensor> replaced, int layer, List<SiteQuantizer.Linear> linears,
                              float[] x, int window, String nextKey, float[] wNext, int rowsNext, int dNext,
                              float[] ref) {
        this.file = file;
        this.replaced = replaced;
        this.layer = layer;
        this.linears = linears;
        this.x = x;
        this.window = window;
        this.nextKey = nextKey;
        this.wNext = wNext;
        this.rowsNext = rowsNext;
        this.dNext = dNext;
        this.ref = ref;
    }

    /**
     * The block objective of {@code site} (ATTN_QKV or FFN_IN) of layer {@code l}, whose linears are {@code linears}
     * (their weights: the float ones, or error propagation's targets), for the calibration states {@code x} entering
     * the layer in the quantized model and, if not null, {@code xf} in the unquantized one (then the reference is the
     * unquantized layer on xf). {@code replaced}: what the layer runs with so far (read, not modified). Null for other
     * sites, or if the block has no o / down linear.
     */
    static AwqBlockObjective of(GgufFile file, Map<String, Tensor> replaced, int l, LinearSite site,
                                List<SiteQuantizer.Linear> linears, float[] x, float[] xf, int window) throws IOException {
        LinearSite next = switch (site) {
            case ATTN_QKV -> LinearSite.ATTN_OUTPUT;
            case FFN_IN -> LinearSite.FFN_DOWN;
            default -> null;
        };
        String name = next == null ? null : "blk." + l + "." + next.linears().get(0) + ".weight";
        if (name == null || !file.contains(name) || file.tensor(name).rank() != 2) {
            return null;
        }
        Tensor t = file.tensor(name);
        int rowsNext = t.dim(0), dNext = t.dim(1);
        String key = CalibrationTap.name(0, next, -1);
        float[] ref;
        if (xf != null) {
            ref = SequentialQuantizer.siteInputs(SequentialQuantizer.block(file, Map.of(), l), xf, window, key, dNext);
        } else {
            Map<String, Tensor> m = new HashMap<>(replaced);
            for (SiteQuantizer.Linear lin : linears) {
                m.put(lin.name(), Tensor.wrap(lin.w(), Shape.of(lin.rows(), lin.cols())));
            }
            ref = SequentialQuantizer.siteInputs(SequentialQuantizer.block(file, m, l), x, window, key, dNext);
        }
        return new AwqBlockObjective(file, replaced, l, linears, x, window, key, t.toF32().toFloatArray(), rowsNext,
                dNext, ref);
    }

    @Override
    public double loss(double[] s, List<QuantizedLinear> scaled) {
        Map<String, Tensor> m = new HashMap<>(replaced);
        for (int i = 0; i < linears.size(); i++) {
            SiteQuantizer.Linear lin = linears.get(i);
            m.put(lin.name(), Tensor.wrap(Awq.unscaled(scaled.get(i), s), Shape.of(lin.rows(), lin.cols())));
        }
        float[] a;
        try {
            a = SequentialQuantizer.siteInputs(SequentialQuantizer.block(file, m, layer), x, window, nextKey, dNext);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Awq.outputError(a, ref, wNext, rowsNext, dNext);
    }
}
