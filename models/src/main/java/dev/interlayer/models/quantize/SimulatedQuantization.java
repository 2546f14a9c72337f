package dev.interlayer.models.quantize;

import dev.interlayer.models.io.WeightSource;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.Gptq;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Quantizes the dense block linears of a GGUF-named model ({@code blk.L.attn_q|attn_k|attn_v|attn_output|
 * ffn_gate|ffn_up|ffn_down.weight}) and returns their dequantized float32 copies, to be served through
 * {@link ReplacedWeights} so the engine runs the model with quantization error but float arithmetic
 * ("simulated" or fake quantization: the standard way quantizer papers measure perplexity). Embeddings, norms,
 * the LM head and MoE experts stay as they are (this one-pass helper serves tests and benchmarks of dense models;
 * {@code ./interlayer quantize --method} runs {@link SequentialQuantizer}, which quantizes experts per expert).
 */
public final class SimulatedQuantization {
    /** The quantizers this class runs. */
    public enum Method {
        /** Round to nearest per group. */
        RTN,
        /** GPTQ with each layer's calibration Hessian (needs {@link CalibrationStats} with Hessians). */
        GPTQ
    }

    private SimulatedQuantization() {
    }

    /**
     * The dequantized replacements of every dense block linear of layers [0, layers) present in {@code src}.
     *
     * @param stats calibration statistics keyed as {@link CalibrationTap#name}; required for GPTQ, ignored by RTN
     * @throws IllegalArgumentException if GPTQ has no statistics or a layer's Hessian width differs from its weight
     */
    public static Map<String, Tensor> quantize(WeightSource src, int layers, Method method, QuantScheme scheme,
                                               CalibrationStats stats) {
        if (method == Method.GPTQ && stats == null) {
            throw new IllegalArgumentException("SimulatedQuantization: GPTQ needs calibration statistics");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            for (LinearSite site : LinearSite.values()) {
                for (String linear : site.linears()) {
                    String name = "blk." + l + "." + linear + ".weight";
                    if (!src.contains(name)) {
                        continue;
                    }
                    Tensor t = src.tensor(name);
                    int rows = t.dim(0), cols = t.dim(1);
                    float[] w = t.toF32().toFloatArray();
                    QuantizedLinear q;
                    if (method == Method.RTN) {
                        q = Rtn.quantize(w, rows, cols, scheme);
                    } else {
                        var h = stats.hessian(CalibrationTap.name(l, site, -1));
                        if (h.dIn() != cols) {
                            throw new IllegalArgumentException("SimulatedQuantization: " + name + " is [" + rows + ", "
                                    + cols + "] but its input Hessian is " + h.dIn() + " wide");
                        }
                        q = Gptq.quantize(w, rows, cols, h.hessian(), scheme, GptqOptions.DEFAULT).weights();
                    }
                    out.put(name, Tensor.wrap(q.dequantize(), Shape.of(rows, cols)));
                }
            }
        }
        return out;
    }
}
