package dev.interlayer.models.gpt2;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.ConfiguredDecoder;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.Embedding;
import dev.interlayer.nn.LayerNorm;
import dev.interlayer.nn.LearnedPositions;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 decoder (pre-LN):
 *
 * <pre>
 *   x = wte[tokens] + wpe[positions]                              [T, d]
 *   for each layer:
 *     h = LN_1(x) ; q|k|v = h·W_attn + b_attn                    fused [T, 3d], split in thirds
 *     x = x + (softmax(q_h·k_hᵀ/√dh, causal)·v_h)·W_proj + b_proj
 *     x = x + gelu_tanh(LN_2(x)·W_fc + b_fc)·W_mproj + b_mproj
 *   logits = LN_f(x)·wteᵀ                                          [T, vocab]  (tied head)
 * </pre>
 *
 * HF stores GPT-2 "Conv1D" weights as [in, out] (y = x·W); they are used through transposed views
 * [out, in] (no copy). llama.cpp's converter transposes them to [out, in] and names the fused
 * projection {@code attn_qkv}; its q/k/v thirds are row slices here.
 */
public final class Gpt2Model extends ConfiguredDecoder<Gpt2Config> {
    private Gpt2Model(Gpt2Config config, DecoderStack stack, Tensor head) {
        super(config, stack, head, 0f, config.maxPositions());
    }

    /**
     * Builds the model from {@code w} (the family registry's loading path: {@code Families.GPT2}).
     *
     * @param hfConfig the folder's config.json when {@code w} holds Hugging Face names (GPT2LMHeadModel or
     *                 GPT2Model; with or without the {@code transformer.} prefix), null for llama.cpp names (fused
     *                 attn_qkv [3d, d])
     */
    public static Gpt2Model load(Gpt2Config c, Weights w, JsonObject hfConfig) throws ModelFormatException {
        return hfConfig != null ? loadHf(c, w) : loadGguf(c, w);
    }

    private static Gpt2Model loadHf(Gpt2Config c, Weights w) throws ModelFormatException {
        String t = w.has("transformer.wte.weight") ? "transformer." : "";
        int d = c.dim(), f = c.hiddenDim();
        Tensor wte = w.get(t + "wte.weight", c.vocabSize(), d);
        List<TransformerBlock> blocks = new ArrayList<>(c.layers());
        for (int l = 0; l < c.layers(); l++) {
            String p = t + "h." + l + ".";
            Tensor qkv = w.get(p + "attn.c_attn.weight", d, 3 * d).transpose(0, 1);   // [3d, d] view
            Tensor qkvBias = w.get(p + "attn.c_attn.bias", 3 * d);
            blocks.add(block(c, w.get(p + "ln_1.weight", d), w.get(p + "ln_1.bias", d), qkv, qkvBias,
                    w.get(p + "attn.c_proj.weight", d, d).transpose(0, 1), w.get(p + "attn.c_proj.bias", d),
                    w.get(p + "ln_2.weight", d), w.get(p + "ln_2.bias", d),
                    w.get(p + "mlp.c_fc.weight", d, f).transpose(0, 1), w.get(p + "mlp.c_fc.bias", f),
                    w.get(p + "mlp.c_proj.weight", f, d).transpose(0, 1), w.get(p + "mlp.c_proj.bias", d)));
        }
        LayerNorm lnF = new LayerNorm(w.get(t + "ln_f.weight", d), w.get(t + "ln_f.bias", d), c.layerNormEps());
        Tensor head = w.has("lm_head.weight") ? w.get("lm_head.weight", c.vocabSize(), d) : wte;
        return new Gpt2Model(c, new DecoderStack(new Embedding(wte),
                new LearnedPositions(w.get(t + "wpe.weight", c.maxPositions(), d)), null, blocks, lnF), head);
    }

    private static Gpt2Model loadGguf(Gpt2Config c, Weights w) throws ModelFormatException {
        int d = c.dim(), f = c.hiddenDim();
        Tensor wte = w.get("token_embd.weight", c.vocabSize(), d);
        List<TransformerBlock> blocks = new ArrayList<>(c.layers());
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            blocks.add(block(c, w.get(p + "attn_norm.weight", d), w.get(p + "attn_norm.bias", d),
                    w.get(p + "attn_qkv.weight", 3 * d, d), w.get(p + "attn_qkv.bias", 3 * d),
                    w.get(p + "attn_output.weight", d, d), w.get(p + "attn_output.bias", d),
                    w.get(p + "ffn_norm.weight", d), w.get(p + "ffn_norm.bias", d),
                    w.get(p + "ffn_up.weight", f, d), w.get(p + "ffn_up.bias", f),
                    w.get(p + "ffn_down.weight", d, f), w.get(p + "ffn_down.bias", d)));
        }
        LayerNorm lnF = new LayerNorm(w.get("output_norm.weight", d), w.get("output_norm.bias", d), c.layerNormEps());
        // llama.cpp's converter writes the tied embedding again as output.weight
        Tensor head = w.has("output.weight") ? w.get("output.weight", c.vocabSize(), d) : wte;
        return new Gpt2Model(c, new DecoderStack(new Embedding(wte),
                new LearnedPositions(w.get("position_embd.weight", c.maxPositions(), d)), null, blocks, lnF), head);
    }

    // One pre-LN block from [out, in]-shaped weights; qkv [3d, d] holds the q, k, v rows in that order.
    private static TransformerBlock block(Gpt2Config c, Tensor ln1w, Tensor ln1b, Tensor qkv, Tensor qkvBias,
                                          Tensor proj, Tensor projBias, Tensor ln2w, Tensor ln2b, Tensor fc,
                                          Tensor fcBias, Tensor mproj, Tensor mprojBias) {
        int d = c.dim();
        AttentionConfig ac = AttentionConfig.builder(d, c.heads(), c.maxPositions()).build();
        Attention attn = new Attention(ac,
                new Linear(qkv.slice(0, 0, d), qkvBias.slice(0, 0, d)),
                new Linear(qkv.slice(0, d, 2 * d), qkvBias.slice(0, d, 2 * d)),
                new Linear(qkv.slice(0, 2 * d, 3 * d), qkvBias.slice(0, 2 * d, 3 * d)),
                new Linear(proj, projBias));
        Mlp mlp = new Mlp(new Linear(fc, fcBias), new Linear(mproj, mprojBias), c.activation());
        return new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE),
                new LayerNorm(ln1w, ln1b, c.layerNormEps()), attn, null,
                new LayerNorm(ln2w, ln2b, c.layerNormEps()), mlp, null);
    }
}
