package dev.interlayer.models.load;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.bert.BertConfig;
import dev.interlayer.models.bert.BertModel;
import dev.interlayer.models.gemma.GemmaModel;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.gpt2.Gpt2Model;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.models.io.UsageTrackingWeightSource;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.llama.LlamaModel;
import dev.interlayer.models.olmo.Olmo2Model;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Opens a model by path and picks its family:
 * <ul>
 *   <li>a {@code .gguf} file (or any file starting with the GGUF magic): by {@code general.architecture} —
 *       llama/mistral/qwen2/qwen2moe → {@link LlamaModel}, gemma2/gemma3 → {@link GemmaModel},
 *       olmo2 → {@link Olmo2Model}, gpt2 → {@link Gpt2Model}, bert → {@link BertModel} (encoder: hidden
 *       states only);</li>
 *   <li>a folder: a Hugging Face folder, by {@code config.json} {@code architectures[0]} (else
 *       {@code model_type}) — also BERT encoders ({@link BertModel}, hidden states only);</li>
 *   <li>an {@code .onnx} file: a BERT encoder exported to ONNX (hidden states only).</li>
 * </ul>
 * The tokenizer comes from GGUF metadata or a {@code tokenizer.json} next to the weights; none is
 * required (callers may pass token ids).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    private static final Map<String, String> HF_ARCHITECTURES = Map.ofEntries(
            Map.entry("LlamaForCausalLM", "llama"), Map.entry("MistralForCausalLM", "llama"),
            Map.entry("Qwen2ForCausalLM", "llama"), Map.entry("MixtralForCausalLM", "llama"),
            Map.entry("Qwen2MoeForCausalLM", "llama"), Map.entry("Gemma2ForCausalLM", "gemma"),
            Map.entry("Gemma3ForCausalLM", "gemma"), Map.entry("Gemma3ForConditionalGeneration", "gemma"),
            Map.entry("Olmo2ForCausalLM", "olmo2"), Map.entry("GPT2LMHeadModel", "gpt2"),
            Map.entry("GPT2Model", "gpt2"), Map.entry("BertModel", "bert"), Map.entry("BertForMaskedLM", "bert"),
            Map.entry("BertLMHeadModel", "bert"));

    // Names each family deliberately does not read, so they are not reported as unused: tied-head duplicates
    // (the head is the embedding), buffers of older checkpoints (rotary inv_freq, position_ids, GPT-2 causal
    // masks; Safetensors already hides the last two), and heads/towers outside what the family computes.
    private static final String BUFFERS = ".*\\.rotary_emb\\.inv_freq|.*position_ids|.*\\.attn\\.(masked_)?bias";
    private static final Map<String, Pattern> IGNORED = Map.of(
            "llama", Pattern.compile(BUFFERS + "|lm_head\\.weight"),
            "gemma", Pattern.compile(BUFFERS + "|(language_model\\.)?lm_head\\.weight"
                    + "|vision_tower\\..*|multi_modal_projector\\..*"),     // Gemma 3 multimodal: text tower only
            "olmo2", Pattern.compile(BUFFERS + "|lm_head\\.weight"),
            "gpt2", Pattern.compile(BUFFERS + "|lm_head\\.weight"),
            "bert", Pattern.compile(BUFFERS + "|(bert\\.)?pooler\\..*|cls\\..*"));  // hidden states only: no pooler, no MLM head

    private static final Map<String, String> HF_MODEL_TYPES = Map.ofEntries(Map.entry("llama", "llama"),
            Map.entry("mistral", "llama"), Map.entry("qwen2", "llama"), Map.entry("mixtral", "llama"),
            Map.entry("qwen2_moe", "llama"), Map.entry("gemma2", "gemma"), Map.entry("gemma3", "gemma"),
            Map.entry("gemma3_text", "gemma"), Map.entry("olmo2", "olmo2"), Map.entry("gpt2", "gpt2"),
            Map.entry("bert", "bert"));

    /**
     * Opens {@code path} (GGUF file, HF folder or ONNX file).
     *
     * @throws ModelFormatException for an unknown family or a corrupt/unsupported file
     * @throws IOException          if the path cannot be read
     */
    public static LoadedModel open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return openHf(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null,
                    "expected a .gguf file, a Hugging Face folder or an .onnx file");
        }
        if (isGguf(path)) {
            return openGguf(path);
        }
        if (path.getFileName().toString().endsWith(".onnx")) {
            return openOnnx(path);
        }
        throw new ModelFormatException(path, 0, "model file", "GGUF (magic 'GGUF'), an .onnx file or a folder",
                "an unrecognised file");
    }

    private static boolean isGguf(Path path) throws IOException {
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(magic, 0, 4) == 4 && Arrays.equals(magic, new byte[] {'G', 'G', 'U', 'F'});
        }
    }

    /**
     * Names that {@code family} deliberately does not read (tied-head duplicates, rotary/position buffers,
     * heads it does not compute); anything else left unread after a load is reported as a warning.
     */
    public static Predicate<String> ignoredBy(String family) {
        Pattern p = IGNORED.get(family);
        return p == null ? name -> false : name -> p.matcher(name).matches();
    }

    /**
     * Logs one warning (logger {@code dev.interlayer.models}) naming the tensors of {@code tensors} that the
     * load did not request and {@code family} does not deliberately ignore.
     */
    static void warnUnused(UsageTrackingWeightSource tensors, Path file, String family) {
        tensors.warnUnused(file.getFileName().toString(), family, ignoredBy(family));
    }

    /** The family of a GGUF architecture name, or null if unsupported. */
    public static String ggufFamily(String arch) {
        if (arch == null) {
            return null;
        }
        if (LlamaModel.SUPPORTED_ARCHS.contains(arch)) {
            return "llama";
        }
        return switch (arch) {
            case "gemma2", "gemma3" -> "gemma";
            case "olmo2" -> "olmo2";
            case "gpt2" -> "gpt2";
            case "bert" -> "bert";
            default -> null;
        };
    }

    /** The family named by an HF config: architectures[0] first, then model_type; null if unsupported. */
    public static String hfFamily(JsonObject config) {
        if (config.has("architectures") && config.get("architectures").isJsonArray()) {
            JsonArray a = config.getAsJsonArray("architectures");
            if (!a.isEmpty() && HF_ARCHITECTURES.containsKey(a.get(0).getAsString())) {
                return HF_ARCHITECTURES.get(a.get(0).getAsString());
            }
        }
        String type = config.has("model_type") ? config.get("model_type").getAsString() : "";
        return HF_MODEL_TYPES.get(type);
    }

    private static LoadedModel openGguf(Path path) throws IOException {
        GgufFile f = Gguf.open(path);
        UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(f);
        try {
            String family = ggufFamily(f.architecture());
            Tokenizer tok = null;
            if (f.get("tokenizer.ggml.model") != null) {
                tok = Tokenizers.fromGguf(f);
            }
            if ("bert".equals(family)) {
                HiddenStates bert = bertHidden(BertModel.load(f, tracked));
                warnUnused(tracked, path, family);
                return new LoadedModel(family, "gguf", null, bert, tok, f);
            }
            CausalLM lm = switch (family == null ? "" : family) {
                case "llama" -> LlamaModel.load(f, tracked);
                case "gemma" -> GemmaModel.load(f, tracked);
                case "olmo2" -> Olmo2Model.load(f, tracked);
                case "gpt2" -> Gpt2Model.load(f, tracked);
                default -> throw new ModelFormatException(path, -1, "metadata 'general.architecture'",
                        "one of " + LlamaModel.SUPPORTED_ARCHS + ", gemma2, gemma3, olmo2, gpt2, bert",
                        String.valueOf(f.architecture()));
            };
            warnUnused(tracked, path, family);
            return new LoadedModel(family, "gguf", lm, (HiddenStates) lm, tok, f);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static LoadedModel openHf(Path dir) throws IOException {
        HfFolder folder = HfFolder.open(dir);
        UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(folder.weights());
        Path weightsFile = Files.isRegularFile(dir.resolve("model.safetensors")) ? dir.resolve("model.safetensors")
                : dir.resolve("model.safetensors.index.json");
        try {
            String family = hfFamily(folder.config());
            Tokenizer tok = folder.tokenizerJson().isPresent() ? Tokenizers.fromHuggingFace(folder.tokenizerJson().get())
                    : null;
            if ("bert".equals(family)) {
                BertModel bert = BertModel.load(BertConfig.fromHuggingFace(folder.config()), tracked);
                warnUnused(tracked, weightsFile, family);
                return new LoadedModel(family, "hf", null, bertHidden(bert), tok, folder);
            }
            CausalLM lm = switch (family == null ? "" : family) {
                case "llama" -> LlamaModel.load(folder, tracked);
                case "gemma" -> GemmaModel.load(folder, tracked);
                case "olmo2" -> Olmo2Model.load(folder, tracked);
                case "gpt2" -> Gpt2Model.load(folder, tracked);
                default -> throw new ModelFormatException(dir.resolve("config.json"), -1, "architectures / model_type",
                        "one of " + HF_ARCHITECTURES.keySet().stream().sorted().toList(),
                        String.valueOf(folder.config().get("architectures")) + " / " + folder.modelType());
            };
            warnUnused(tracked, weightsFile, family);
            return new LoadedModel(family, "hf", lm, (HiddenStates) lm, tok, folder);
        } catch (IOException | RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    private static LoadedModel openOnnx(Path path) throws IOException {
        OnnxWeights w = OnnxWeights.open(path);
        try {
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(w);
            BertModel bert = BertModel.load(BertConfig.fromOnnx(w), tracked);
            warnUnused(tracked, path, "bert");
            String name = path.getFileName().toString();
            Path tj = path.resolveSibling(name.replaceFirst("\\.onnx$", "") + "-tokenizer.json");
            if (!Files.isRegularFile(tj)) {
                tj = path.resolveSibling("tokenizer.json");
            }
            Tokenizer tok = Files.isRegularFile(tj) ? Tokenizers.fromHuggingFace(tj) : null;
            return new LoadedModel("bert", "onnx", null, bertHidden(bert), tok, (AutoCloseable) w);
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
    }

    // BERT last_hidden_state for one sequence, token types 0, full mask.
    private static HiddenStates bertHidden(BertModel bert) {
        return new HiddenStates() {
            @Override
            public int hiddenSize() {
                return bert.config().hidden();
            }

            @Override
            public float[] hiddenStates(int[] tokens) {
                if (tokens.length == 0) {
                    throw new IllegalArgumentException("hiddenStates: no tokens");
                }
                return bert.encode(new int[][] {tokens}, null).contiguous().toFloatArray();
            }
        };
    }

    /** Names of the families this loader knows. */
    public static List<String> families() {
        return List.of("llama", "gemma", "olmo2", "gpt2", "bert");
    }
}
