package dev.interlayer.models.llama;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.models.lm.ConfiguredDecoder;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.Embedding;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Llama-family decoder (Llama 1/2/3, Mistral, Qwen2, Mixtral, Qwen2-MoE) built on the {@code nn}
 * {@link DecoderStack}: pre-norm blocks of RMSNorm → grouped-query self-attention with RoPE → residual,
 * RMSNorm → SwiGLU feed-forward (or a routed mixture of SwiGLU experts) → residual; final RMSNorm and an
 * output projection.
 *
 * <pre>
 *   x = embed[tokens]                                               [T, dim]
 *   for each layer:
 *     h = rmsnorm(x) ; q, k, v = h·Wqᵀ (+bq), h·Wkᵀ (+bk), h·Wvᵀ (+bv) ; q, k = rope(q, k)
 *     x += softmax(q·Kᵀ/√hd, causal; sliding window w on windowed layers)·V · Woᵀ
 *     h = rmsnorm(x) ; x += (silu(h·Wgateᵀ) ⊙ h·Wupᵀ)·Wdownᵀ
 *          MoE layers: x += Σ_{e ∈ topk(p)} w_e·SwiGLU_e(h) (+ σ(h·s)·SwiGLU_shared(h)), p = softmax(h·Wrᵀ)
 *   logits = rmsnorm(x)·Woutᵀ                                       [T, vocab]
 * </pre>
 *
 * This class holds the weights by role and builds the stack; the tensor names of both formats are in
 * {@link LlamaTensors}, and the arithmetic is {@code nn}'s. Immutable and thread-safe; each thread uses
 * its own session.
 */
public final class LlamaModel extends ConfiguredDecoder<LlamaConfig> {
    /** The family's name in messages: the architectures this class runs. */
    public static final String TITLE = "Llama/Mistral/Qwen2/Mixtral/Qwen2-MoE";

    /** GGUF architectures this class runs. */
    public static final List<String> SUPPORTED_ARCHS = List.of("llama", "mistral", "qwen2", "qwen2moe");

    /** Tokens per prefill chunk: bounds the activation buffers while keeping matmuls batched. */
    public static final int DEFAULT_CHUNK = DecoderLM.DEFAULT_CHUNK;

    /**
     * Weights of one block. Shapes (outermost first): norms [dim]; wq [qDim, dim]; wk, wv [kvDim, dim];
     * wo [dim, qDim]; biases [qDim]/[kvDim] or null; dense FFN gate, up [hidden, dim], down [dim, hidden]
     * (null in MoE layers); {@code moe} null in dense layers.
     */
    public record Layer(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor bq, Tensor bk, Tensor bv,
                        Tensor ffnNorm, Tensor gate, Tensor up, Tensor down, Moe moe) {
    }

    /**
     * Mixture-of-experts FFN weights: router [experts, dim]; per expert gate, up [hidden, dim] and
     * down [dim, hidden] (views of the stored 3-D tensors); optional shared expert (Qwen2-MoE) with a
     * sigmoid gate vector sharedGateInp [dim] and gate, up [sharedHidden, dim], down [dim, sharedHidden].
     */
    public record Moe(Tensor router, Tensor[] gate, Tensor[] up, Tensor[] down, Tensor sharedGateInp,
                      Tensor sharedGate, Tensor sharedUp, Tensor sharedDown) {
    }

    private final Tensor embed;          // [vocab, dim]
    private final Layer[] layers;
    private final Tensor outNorm;        // [dim]
    private final Tensor output;         // [vocab, dim] (the embedding when tied)
    private final float[] ropeDivisors;  // [ropeDim/2] GGUF rope_freqs, or null

    private LlamaModel(LlamaConfig config, DecoderStack stack, Tensor embed, Layer[] layers, Tensor outNorm,
                       Tensor output, float[] ropeDivisors) {
        super(config, stack, output, 0f, config.contextLength());
        this.embed = embed;
        this.layers = layers;
        this.outNorm = outNorm;
        this.output = output;
        this.ropeDivisors = ropeDivisors;
    }

    /**
     * Assembles a model from already shape-checked weights; RoPE frequencies are divided per pair by
     * {@code ropeDivisors} [ropeDim/2] (GGUF {@code rope_freqs}), or null for none.
     *
     * @throws IllegalArgumentException if the layer count or a layer's dense/MoE kind disagrees with the config
     */
    public static LlamaModel of(LlamaConfig config, Tensor embed, Layer[] layers, Tensor outNorm, Tensor output,
                                float[] ropeDivisors) {
        if (layers.length != config.layers()) {
            throw new IllegalArgumentException("config has " + config.layers() + " layers, got " + layers.length);
        }
        for (int i = 0; i < layers.length; i++) {
            if ((layers[i].moe() != null) != config.isSparse(i)) {
                throw new IllegalArgumentException("layer " + i + ": config says " + (config.isSparse(i) ? "MoE"
                        : "dense") + " FFN, weights are " + (layers[i].moe() != null ? "MoE" : "dense"));
            }
        }
        float[] div = ropeDivisors == null ? null : ropeDivisors.clone();
        RopeConfig rope = config.ropeConfig(div);
        List<TransformerBlock> blocks = new ArrayList<>(layers.length);
        for (int i = 0; i < layers.length; i++) {
            blocks.add(block(config, rope, i, layers[i]));
        }
        float eps = config.rmsNormEps();
        DecoderStack stack = new DecoderStack(new Embedding(embed), null, null, blocks, new RmsNorm(outNorm, eps));
        return new LlamaModel(config, stack, embed, layers.clone(), outNorm, output, div);
    }

    // One pre-norm block: RMSNorm → attention (q/k/v biases when present) → RMSNorm → SwiGLU or MoE.
    private static TransformerBlock block(LlamaConfig c, RopeConfig rope, int l, Layer w) {
        AttentionConfig ac = c.attention(l, rope);
        Attention attn = new Attention(ac, new Linear(w.wq(), w.bq()), new Linear(w.wk(), w.bk()),
                new Linear(w.wv(), w.bv()), new Linear(w.wo()));
        FeedForward ffn = w.moe() == null ? swiGlu(w.gate(), w.up(), w.down()) : moe(c, w.moe());
        float eps = c.rmsNormEps();
        return new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), new RmsNorm(w.attnNorm(), eps), attn, null,
                new RmsNorm(w.ffnNorm(), eps), ffn, null);
    }

    private static GatedMlp swiGlu(Tensor gate, Tensor up, Tensor down) {
        return GatedMlp.swiGlu(new Linear(gate), new Linear(up), new Linear(down));
    }

    // Routed experts (Mixtral renormalises the top-k probabilities; Qwen2-MoE per norm_topk_prob) and the
    // Qwen2-MoE shared expert behind its sigmoid gate.
    private static MoeFeedForward moe(LlamaConfig c, Moe m) {
        boolean shared = m.sharedGate() != null;
        List<FeedForward> experts = new ArrayList<>(m.gate().length);
        for (int e = 0; e < m.gate().length; e++) {
            experts.add(swiGlu(m.gate()[e], m.up()[e], m.down()[e]));
        }
        MoeConfig mc = new MoeConfig(c.dim(), c.experts(), c.expertsUsed(), c.moeNormalizesTopK(),
                shared ? SharedExperts.GATED : SharedExperts.NONE);
        return new MoeFeedForward(mc, new Linear(m.router()), experts,
                shared ? swiGlu(m.sharedGate(), m.sharedUp(), m.sharedDown()) : null,
                shared ? new Linear(m.sharedGateInp().reshape(Shape.of(1, c.dim()))) : null);
    }

    /**
     * Builds the model from {@code w} (the family registry's loading path: {@code Families.LLAMA}); the tensor
     * names of both formats are in {@link LlamaTensors}.
     *
     * @param hfConfig the folder's config.json when {@code w} holds Hugging Face names (model.layers.N.self_attn.q_proj
     *                 …; {@code tie_word_embeddings}), null for llama.cpp names (blk.N.attn_q …, 3-D expert tensors,
     *                 optional rope_freqs)
     * @throws ModelFormatException if a tensor is missing or mis-shaped, or the file has an output-projection bias
     */
    public static LlamaModel load(LlamaConfig config, Weights w, JsonObject hfConfig) throws ModelFormatException {
        return LlamaTensors.load(config, w, hfConfig);
    }

    /**
     * Loads a Llama-family model from GGUF (config from {@code <arch>.*} metadata, tensors by llama.cpp
     * names), as the registry does. The tensors are views of {@code file}'s mapping: keep the file open while
     * using the model.
     *
     * @throws ModelFormatException if the architecture is unsupported or a tensor is missing or mis-shaped
     */
    public static LlamaModel load(GgufFile file) throws ModelFormatException {
        return load(file, file);
    }

    /**
     * As {@link #load(GgufFile)}, looking tensors up in {@code tensors} (the file itself or a decorator of
     * it such as {@link dev.interlayer.models.io.UsageTrackingWeightSource}); metadata and shapes come from
     * {@code file}.
     *
     * @throws ModelFormatException if the architecture is unsupported or a tensor is missing or mis-shaped
     */
    public static LlamaModel load(GgufFile file, WeightSource tensors) throws ModelFormatException {
        return load(LlamaConfig.fromGguf(file), Weights.of(file, tensors), null);
    }

    /**
     * Loads a Llama-family model from a Hugging Face folder (LlamaForCausalLM, MistralForCausalLM,
     * Qwen2ForCausalLM, MixtralForCausalLM, Qwen2MoeForCausalLM), as the registry does. Keep the folder open
     * while using the model.
     *
     * @throws ModelFormatException for an unsupported config or a missing/mis-shaped tensor
     */
    public static LlamaModel load(HfFolder folder) throws ModelFormatException {
        LlamaConfig c = HfJson.parseConfig(folder, LlamaConfig::fromHuggingFace, "llama config",
                "a supported " + TITLE + " config");
        return load(c, new Weights(folder.weights(), folder.dir()), folder.config());
    }

    /** The same weights under another config of equal geometry (tests: e.g. another sliding window). */
    LlamaModel withConfig(LlamaConfig other) {
        return of(other, embed, layers, outNorm, output, ropeDivisors);
    }

    /** Layer weights (for inspection and tests). */
    public Layer layer(int i) {
        return layers[i];
    }
}
