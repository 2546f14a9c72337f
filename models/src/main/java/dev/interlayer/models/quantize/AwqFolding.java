package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.Map;

/**
 * Where AWQ's input scales {@code s} of a site go (Lin et al., "AWQ", MLSys 2024, and its reference code
 * llm-awq / AutoAWQ): the site's linears hold {@code W·diag(s)}, so the op that produces their input must divide
 * its output channel j by {@code s_j}. Each fold leaves the float model's function unchanged:
 * <ul>
 *   <li>attention input (q, k, v) and FFN input (gate, up): the pre-norm's gain, {@code g_j / s_j} (RMSNorm without
 *       bias is linear in its gain);</li>
 *   <li>attention output (o): the value projection's rows. The attention output of query head h is
 *       {@code Σ_t p_ht·v_t}, linear in V, so dividing v's row {@code (k, d)} by {@code t} divides o's input
 *       channel {@code (h, d)} by {@code t} for every query head h of kv head k; under grouped-query attention
 *       the scales are therefore tied per kv head ({@link Awq#tiedMeanAbs}). A v bias is divided too (softmax
 *       weights sum to 1);</li>
 *   <li>FFN hidden (down), gated MLPs only: the up projection's rows, since {@code h_j = act(gate_j)·up_j} is
 *       linear in {@code up_j} (not so for {@code act(up)} of a non-gated MLP, which gets scale 1).</li>
 * </ul>
 * On a post-LayerNorm BERT encoder only the attention output folds (into v): its LayerNorms have biases and feed the
 * residual, and its MLP is {@code GELU(up)}.
 * v and up are quantized before o and down (the sequential protocol calibrates each site on the quantized
 * layer's inputs), so their folds rescale the quantized rows ({@link QuantizedLinear#scaleRows}, the same codes a
 * quantization of the scaled rows would give) or, if that linear was kept in float, its float rows.
 *
 * @param site     the site whose linears carry the scales
 * @param norm     the norm gain to divide ({@code blk.L.attn_norm.weight}), or null
 * @param producer the linear whose rows to divide ({@code blk.L.attn_v.weight}), or null
 * @param bias     the producer's bias, or null
 * @param heads    query heads of o's input (1 for other sites)
 * @param kvHeads  kv heads (1 for other sites)
 * @param headDim  head width (the input width for other sites)
 */
record AwqFolding(LinearSite site, String norm, String producer, String bias, int heads, int kvHeads, int headDim) {

    /**
     * The fold of {@code site} in layer {@code l} of {@code file}, whose linears read {@code dIn} channels, or null
     * if the model has nothing to fold it into (a norm with a bias, a fused qkv, a non-gated MLP, shapes that do not
     * match); such a site gets scale 1 (AWQ's clipping search only).
     */
    static AwqFolding of(GgufFile file, int l, LinearSite site, AttentionConfig ac, int dIn) {
        String p = "blk." + l + ".";
        return switch (site) {
            case ATTN_QKV -> norm(file, site, p + "attn_norm", dIn);
            case FFN_IN -> norm(file, site, p + "ffn_norm", dIn);
            case ATTN_OUTPUT -> ac.heads() * ac.headDim() == dIn
                    ? producer(file, site, p + "attn_v", ac.kvHeads() * ac.headDim(), ac.heads(), ac.kvHeads(), ac.headDim())
                    : null;
            case FFN_DOWN -> file.contains(p + "ffn_gate.weight") ? producer(file, site, p + "ffn_up", dIn, 1, 1, dIn) : null;
        };
    }

    private static AwqFolding norm(GgufFile file, LinearSite site, String name, int dIn) {
        String w = name + ".weight";
        return file.contains(w) && !file.contains(name + ".bias") && file.tensor(w).size() == dIn
                ? new AwqFolding(site, w, null, null, 1, 1, dIn) : null;
    }

    private static AwqFolding producer(GgufFile file, LinearSite site, String name, int rows, int heads, int kvHeads,
                                       int headDim) {
        String w = name + ".weight";
        if (!file.contains(w) || file.tensor(w).rank() != 2 || file.tensor(w).dim(0) != rows) {
            return null;
        }
        String b = name + ".bias";
        return new AwqFolding(site, null, w, file.contains(b) ? b : null, heads, kvHeads, headDim);
    }

    /** AWQ's activation statistic for this site: {@code meanAbs} itself, or tied per kv head for o under GQA. */
    double[] statistic(double[] meanAbs) {
        return heads == kvHeads ? meanAbs : Awq.tiedMeanAbs(meanAbs, heads, kvHeads, headDim);
    }

    /**
     * The channels whose scales this fold ties: {@code tie[j]} is the channel j must share a scale with (o under
     * GQA: channel {@code (h, d)} with {@code (first query head of h's kv head, d)}), or null if none are tied.
     */
    int[] tie() {
        if (heads == kvHeads) {
            return null;
        }
        int group = heads / kvHeads;
        int[] t = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int d = 0; d < headDim; d++) {
                t[h * headDim + d] = (h / group * group) * headDim + d;
            }
        }
        return t;
    }

    /**
     * Divides the producer's output channels by {@code s}: the norm gain or the producer's rows (its quantized form
     * in {@code quantized} if it has one, else its float weight), and its bias. Changed tensors go to
     * {@code replaced} (what this layer runs with from now on) and, if not quantized, to {@code changedF32} (written
     * to the output file as float32).
     */
    void apply(double[] s, GgufFile file, Map<String, QuantizedLinear> quantized, Map<String, Tensor> replaced,
               Map<String, Tensor> changedF32) {
        double[] f = heads == kvHeads ? s : Awq.kvRowScales(s, heads, kvHeads, headDim);   // row divisors
        if (norm != null) {
            divideRows(norm, 1, f, file, replaced, changedF32);
            return;
        }
        QuantizedLinear q = quantized.get(producer);
        if (q != null) {
            QuantizedLinear scaled = q.scaleRows(inverse(f));
            quantized.put(producer, scaled);
            replaced.put(producer, Tensor.wrap(scaled.dequantize(), Shape.of(q.rows(), q.cols())));
        } else {
            Tensor t = file.tensor(producer);
            divideRows(producer, t.dim(1), f, file, replaced, changedF32);
        }
        if (bias != null) {
            divideRows(bias, 1, f, file, replaced, changedF32);
        }
    }

    // row r of the float tensor `name` ([f.length, cols], current value from `replaced` if there) divided by f[r]
    private static void divideRows(String name, int cols, double[] f, GgufFile file, Map<String, Tensor> replaced,
                                   Map<String, Tensor> changedF32) {
        Tensor cur = replaced.containsKey(name) ? replaced.get(name) : file.tensor(name).toF32();
        float[] w = cur.toFloatArray();
        for (int r = 0; r < f.length; r++) {
            for (int c = 0; c < cols; c++) {
                w[r * cols + c] = (float) (w[r * cols + c] / f[r]);
            }
        }
        Tensor t = Tensor.wrap(w, cur.shape());
        replaced.put(name, t);
        changedF32.put(name, t);
    }

    private static double[] inverse(double[] s) {
        double[] f = new double[s.length];
        for (int j = 0; j < s.length; j++) {
            f[j] = 1 / s[j];
        }
        return f;
    }
}
