package dev.interlayer.models.family;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.bert.BertConfig;
import dev.interlayer.models.bert.BertModel;
import dev.interlayer.models.family.Family.Architectures;
import dev.interlayer.models.family.Family.Builders;
import dev.interlayer.models.family.Family.Configs;
import dev.interlayer.models.family.Family.Kind;
import dev.interlayer.models.family.Family.TensorNames;
import dev.interlayer.models.gemma.GemmaConfig;
import dev.interlayer.models.gemma.GemmaModel;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.gpt2.Gpt2Config;
import dev.interlayer.models.gpt2.Gpt2Model;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.models.llama.LlamaConfig;
import dev.interlayer.models.llama.LlamaModel;
import dev.interlayer.models.olmo.Olmo2Config;
import dev.interlayer.models.olmo.Olmo2Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The family registry: the one list of model families Interlayer runs, and the lookups by the names files
 * use. {@code ModelLoader}, {@code inspect}, {@code embed} and the error messages that list what is
 * supported all read {@link #ALL}. Adding a family = a package with its config parser, tensor names and
 * builder, plus one entry here.
 */
public final class Families {
    private Families() {
    }

    // Buffers of older checkpoints no family reads: rotary inv_freq, position_ids, GPT-2 causal masks
    // (Safetensors already hides the last two).
    private static final String BUFFERS = ".*\\.rotary_emb\\.inv_freq|.*position_ids|.*\\.attn\\.(masked_)?bias";
    private static final List<String> GGUF_ATTENTION = List.of("token_embd", "output_norm", "output",
            "blk.N.attn_q", "blk.N.attn_k", "blk.N.attn_v", "blk.N.attn_output", "blk.N.ffn_gate", "blk.N.ffn_up",
            "blk.N.ffn_down");
    private static final List<String> HF_ATTENTION = List.of("model.embed_tokens", "model.norm", "lm_head",
            "model.layers.N.self_attn.q_proj", "model.layers.N.self_attn.k_proj", "model.layers.N.self_attn.v_proj",
            "model.layers.N.self_attn.o_proj", "model.layers.N.mlp.gate_proj", "model.layers.N.mlp.up_proj",
            "model.layers.N.mlp.down_proj");

    /** Llama, Mistral, Qwen2 (dense, sliding-window and mixed layers), Mixtral and Qwen2-MoE. */
    public static final Family LLAMA = decoder("llama", LlamaModel.TITLE,
            new Architectures(List.of("llama", "mistral", "qwen2", "qwen2moe"),
                    List.of("llama", "mistral", "qwen2", "mixtral", "qwen2_moe"),
                    List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "MixtralForCausalLM",
                            "Qwen2MoeForCausalLM")),
            LlamaConfig.class,
            new Configs(LlamaConfig::fromGguf, LlamaConfig::fromHuggingFace, c -> describeLlama((LlamaConfig) c)),
            new TensorNames(plus(GGUF_ATTENTION, "rope_freqs", "blk.N.attn_norm", "blk.N.ffn_norm",
                    "blk.N.ffn_gate_inp", "blk.N.ffn_gate_exps", "blk.N.ffn_up_exps", "blk.N.ffn_down_exps",
                    "blk.N.ffn_gate_inp_shexp", "blk.N.ffn_gate_shexp", "blk.N.ffn_up_shexp", "blk.N.ffn_down_shexp"),
                    plus(HF_ATTENTION, "model.layers.N.input_layernorm", "model.layers.N.post_attention_layernorm",
                            "model.layers.N.block_sparse_moe.gate", "model.layers.N.block_sparse_moe.experts.N.w1",
                            "model.layers.N.block_sparse_moe.experts.N.w2", "model.layers.N.block_sparse_moe.experts.N.w3",
                            "model.layers.N.mlp.gate", "model.layers.N.mlp.experts.N.gate_proj",
                            "model.layers.N.mlp.experts.N.up_proj", "model.layers.N.mlp.experts.N.down_proj",
                            "model.layers.N.mlp.shared_expert.gate_proj", "model.layers.N.mlp.shared_expert.up_proj",
                            "model.layers.N.mlp.shared_expert.down_proj", "model.layers.N.mlp.shared_expert_gate"),
                    List.of()),
            Pattern.compile(BUFFERS + "|lm_head\\.weight"),
            LlamaModel::load);

    /** Gemma 2 and Gemma 3 (text tower of the multimodal checkpoints). */
    public static final Family GEMMA = decoder("gemma", "Gemma 2/3",
            new Architectures(List.of("gemma2", "gemma3"), List.of("gemma2", "gemma3", "gemma3_text"),
                    List.of("Gemma2ForCausalLM", "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration")),
            GemmaConfig.class, new Configs(GemmaConfig::fromGguf, GemmaConfig::fromHuggingFace),
            new TensorNames(plus(GGUF_ATTENTION, "blk.N.attn_norm", "blk.N.post_attention_norm", "blk.N.ffn_norm",
                    "blk.N.post_ffw_norm", "blk.N.attn_q_norm", "blk.N.attn_k_norm"),
                    plus(HF_ATTENTION, "model.layers.N.input_layernorm", "model.layers.N.post_attention_layernorm",
                            "model.layers.N.pre_feedforward_layernorm", "model.layers.N.post_feedforward_layernorm",
                            "model.layers.N.self_attn.q_norm", "model.layers.N.self_attn.k_norm"),
                    List.of("language_model.")),                                  // Gemma 3 multimodal checkpoints
            Pattern.compile(BUFFERS + "|(language_model\\.)?lm_head\\.weight"
                    + "|vision_tower\\..*|multi_modal_projector\\..*"),      // Gemma 3 multimodal: text tower only
            GemmaModel::load);

    /** OLMo 2. */
    public static final Family OLMO2 = decoder("olmo2", "OLMo 2",
            new Architectures(List.of("olmo2"), List.of("olmo2"), List.of("Olmo2ForCausalLM")),
            Olmo2Config.class, new Configs(Olmo2Config::fromGguf, Olmo2Config::fromHuggingFace),
            new TensorNames(plus(GGUF_ATTENTION, "blk.N.attn_q_norm", "blk.N.attn_k_norm", "blk.N.post_attention_norm",
                    "blk.N.post_ffw_norm"),
                    plus(HF_ATTENTION, "model.layers.N.self_attn.q_norm", "model.layers.N.self_attn.k_norm",
                            "model.layers.N.post_attention_layernorm", "model.layers.N.post_feedforward_layernorm"),
                    List.of()),
            Pattern.compile(BUFFERS + "|lm_head\\.weight"),
            Olmo2Model::load);

    /** GPT-2. */
    public static final Family GPT2 = decoder("gpt2", "GPT-2",
            new Architectures(List.of("gpt2"), List.of("gpt2"), List.of("GPT2LMHeadModel", "GPT2Model")),
            Gpt2Config.class, new Configs(Gpt2Config::fromGguf, Gpt2Config::fromHuggingFace),
            new TensorNames(List.of("token_embd", "position_embd", "output_norm", "output", "blk.N.attn_norm",
                    "blk.N.attn_qkv", "blk.N.attn_output", "blk.N.ffn_norm", "blk.N.ffn_up", "blk.N.ffn_down"),
                    List.of("wte", "wpe", "ln_f", "lm_head", "h.N.ln_1", "h.N.attn.c_attn", "h.N.attn.c_proj",
                            "h.N.ln_2", "h.N.mlp.c_fc", "h.N.mlp.c_proj"),
                    List.of("transformer.")),
            Pattern.compile(BUFFERS + "|lm_head\\.weight"),
            Gpt2Model::load);

    /** BERT encoders (MiniLM, bge, …): hidden states and sentence embeddings. */
    public static final Family BERT = new Family("bert", Kind.ENCODER,
            new Architectures(List.of("bert"), List.of("bert"),
                    List.of("BertModel", "BertForMaskedLM", "BertLMHeadModel")),
            new Configs(BertConfig::fromGguf, BertConfig::fromHuggingFace),
            new TensorNames(BertModel.tensorNames(false), BertModel.tensorNames(true), List.of("bert.")),
            Pattern.compile(BUFFERS + "|(bert\\.)?pooler\\..*|cls\\..*"),   // hidden states only: no pooler, no MLM head
            new Builders(BertModel::load, (f, t) -> BertModel.load(BertConfig.fromHuggingFace(f.config()), t, f.dir()),
                    (w, t) -> BertModel.load(BertConfig.fromOnnx(w), t, w.model().file())));

    /** Every family, in the order the docs list them. */
    public static final List<Family> ALL = List.of(LLAMA, GEMMA, OLMO2, GPT2, BERT);

    /** Builds a decoder from its parsed config and its shape-checked tensors. */
    @FunctionalInterface
    private interface DecoderBuild<C> {
        /** @param hfConfig config.json when the tensors carry Hugging Face names, null for GGUF (llama.cpp names) */
        CausalLM build(C config, Weights weights, JsonObject hfConfig) throws ModelFormatException;
    }

    /**
     * A decoder family whose builders are the one loading path of the families on nn: the family's own config
     * parser reads GGUF metadata or config.json (its IllegalArgumentException becomes a ModelFormatException naming
     * config.json, field "NAME config", expected "a supported TITLE config"), {@link Weights} looks the tensors up
     * with shape checks, and {@code build} turns both into the model.
     */
    private static <C> Family decoder(String name, String title, Architectures architectures, Class<C> type,
                                      Configs configs, TensorNames tensorNames, Pattern ignoredTensors,
                                      DecoderBuild<C> build) {
        return new Family(name, Kind.DECODER, architectures, configs, tensorNames, ignoredTensors, new Builders(
                (file, tensors) -> hidden(build.build(type.cast(configs.gguf().parse(file)),
                        Weights.of(file, tensors), null)),
                (folder, tensors) -> hidden(build.build(HfJson.parseConfig(folder,
                                json -> type.cast(configs.hf().parse(json)), name + " config",
                                "a supported " + title + " config"),
                        new Weights(tensors, folder.dir()), folder.config())),
                null));
    }

    private static List<String> plus(List<String> base, String... more) {
        List<String> out = new ArrayList<>(base);
        out.addAll(List.of(more));
        return out;
    }

    // a decoder's CausalLM is also its HiddenStates (a cast between interfaces: compiles whatever the class)
    private static HiddenStates hidden(CausalLM lm) {
        return (HiddenStates) lm;
    }

    private static String describeLlama(LlamaConfig c) {
        return String.format("dim %d, hidden %d, layers %d, heads %d, kv heads %d, head dim %d, vocab %d,"
                        + " context %d, rms eps %g, rope theta %g, rope dim %d (%s)%s",
                c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.vocabSize(),
                c.contextLength(), c.rmsNormEps(), c.ropeTheta(), c.ropeDim(), c.ropePairing(),
                c.experts() > 0 ? ", experts " + c.expertsUsed() + " of " + c.experts()
                        + (c.sharedHiddenDim() > 0 ? " + shared " + c.sharedHiddenDim() : "") : "");
    }

    /** The family named {@code name} ("llama", "bert", …), if any. */
    public static Optional<Family> byName(String name) {
        return ALL.stream().filter(f -> f.name().equals(name)).findFirst();
    }

    /** The family of GGUF {@code general.architecture} value {@code arch}, if supported. */
    public static Optional<Family> forGguf(String arch) {
        if (arch == null) {
            return Optional.empty();
        }
        return ALL.stream().filter(f -> f.architectures().gguf().contains(arch)).findFirst();
    }

    /** The family of a Hugging Face config: {@code architectures[0]} first, then {@code model_type}. */
    public static Optional<Family> forHuggingFace(JsonObject config) {
        if (config.has("architectures") && config.get("architectures").isJsonArray()) {
            JsonArray a = config.getAsJsonArray("architectures");
            if (!a.isEmpty() && a.get(0).isJsonPrimitive()) {
                String arch = a.get(0).getAsString();
                Optional<Family> f = ALL.stream().filter(x -> x.architectures().hfArchitectures().contains(arch))
                        .findFirst();
                if (f.isPresent()) {
                    return f;
                }
            }
        }
        if (!config.has("model_type") || !config.get("model_type").isJsonPrimitive()) {
            return Optional.empty();
        }
        String type = config.get("model_type").getAsString();
        return ALL.stream().filter(f -> f.architectures().hfModelTypes().contains(type)).findFirst();
    }

    /** The families that read ONNX exports. */
    public static List<Family> onnxFamilies() {
        return ALL.stream().filter(Family::readsOnnx).toList();
    }

    /**
     * The family of GGUF architecture {@code arch} in {@code file}.
     *
     * @throws ModelFormatException naming the file, the found value and every supported architecture
     */
    public static Family requireGguf(Path file, String arch) throws ModelFormatException {
        Optional<Family> f = forGguf(arch);
        if (f.isEmpty()) {
            throw new ModelFormatException(file, -1, "metadata 'general.architecture'",
                    "one of " + ggufArchitectures(), String.valueOf(arch));
        }
        return f.get();
    }

    /**
     * The family of the Hugging Face {@code config} read from {@code configFile}.
     *
     * @throws ModelFormatException naming the file, the found names and every supported model_type and
     *                              architecture
     */
    public static Family requireHuggingFace(Path configFile, JsonObject config) throws ModelFormatException {
        Optional<Family> f = forHuggingFace(config);
        if (f.isEmpty()) {
            throw new ModelFormatException(configFile, -1, "architectures / model_type",
                    "one of model_type " + hfModelTypes() + " or architectures " + hfArchitectures(),
                    config.get("architectures") + " / " + config.get("model_type"));
        }
        return f.get();
    }

    /** Every supported GGUF {@code general.architecture}, sorted. */
    public static List<String> ggufArchitectures() {
        return sorted(a -> a.gguf());
    }

    /** Every supported Hugging Face {@code model_type}, sorted. */
    public static List<String> hfModelTypes() {
        return sorted(a -> a.hfModelTypes());
    }

    /** Every supported Hugging Face {@code architectures} entry, sorted. */
    public static List<String> hfArchitectures() {
        return sorted(a -> a.hfArchitectures());
    }

    private static List<String> sorted(java.util.function.Function<Architectures, List<String>> names) {
        TreeSet<String> out = new TreeSet<>();
        for (Family f : ALL) {
            out.addAll(names.apply(f.architectures()));
        }
        return new ArrayList<>(out);
    }

    /**
     * The Markdown table of supported architectures that README.md shows (a test keeps the two equal): one
     * row per family with its kind, GGUF architectures, HF model types and architectures, and ONNX support.
     */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| Family | Kind | GGUF `general.architecture` | HF `model_type` |"
                + " HF `architectures` | ONNX |\n|---|---|---|---|---|---|\n");
        for (Family f : ALL) {
            Architectures a = f.architectures();
            sb.append("| ").append(f.name()).append(" | ").append(f.kind().name().toLowerCase(java.util.Locale.ROOT))
                    .append(" | ").append(codes(a.gguf())).append(" | ").append(codes(a.hfModelTypes()))
                    .append(" | ").append(codes(a.hfArchitectures())).append(" | ").append(f.readsOnnx() ? "yes" : "")
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static String codes(List<String> names) {
        return String.join(", ", names.stream().map(n -> "`" + n + "`").toList());
    }

    /** The family names, in registry order. */
    public static List<String> names() {
        return ALL.stream().map(Family::name).toList();
    }
}
