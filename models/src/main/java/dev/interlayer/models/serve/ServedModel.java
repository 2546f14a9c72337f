package dev.interlayer.models.serve;

import dev.interlayer.models.chat.ChatTemplate;
import dev.interlayer.models.chat.ChatTemplates;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;

/**
 * The one model a server answers for: a decoder (generation; chat through its template or the plain format) or
 * an encoder (embeddings). Immutable and thread-safe; closing it unmaps the weights.
 */
public final class ServedModel implements AutoCloseable {
    // End-of-turn markers of the common chat formats: when one is a special token of the vocabulary, sampling it
    // ends the answer as EOS does (llama.cpp's "end of generation" tokens).
    private static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>",
            "<end_of_turn>", "<|endoftext|>", "</s>");

    private final String id;
    private final CausalLM lm;                   // null for an encoder
    private final Tokenizer tokenizer;           // decoder's tokenizer; null for an encoder
    private final ChatTemplate template;         // null: plain format
    private final EmbeddingModel embedder;       // null for a decoder
    private final int[] stopTokens;
    private final int contextLength;             // per-request limit of prompt + generated tokens; 0 for an encoder
    private final AutoCloseable resource;

    private ServedModel(String id, CausalLM lm, Tokenizer tokenizer, ChatTemplate template, EmbeddingModel embedder,
                        AutoCloseable resource, int contextLimit) {
        this.id = Objects.requireNonNull(id, "id");
        if (contextLimit < 0) {
            throw new IllegalArgumentException("context limit must be >= 0 (0 = the model's own), got " + contextLimit);
        }
        this.lm = lm;
        this.contextLength = lm == null ? 0
                : contextLimit == 0 ? lm.contextLength() : Math.min(contextLimit, lm.contextLength());
        this.tokenizer = tokenizer;
        this.template = template;
        this.embedder = embedder;
        this.resource = resource;
        this.stopTokens = tokenizer == null ? new int[0] : END_OF_TURN.stream()
                .map(tokenizer::tokenId).filter(OptionalInt::isPresent).mapToInt(OptionalInt::getAsInt)
                .filter(tokenizer::isSpecial).distinct().toArray();
    }

    /**
     * Opens the model at {@code path} (GGUF file, Hugging Face folder or ONNX file): a causal LM with its
     * tokenizer and chat template, else an encoder for embeddings. The model id is the file or folder name.
     *
     * @throws IOException if the model cannot be read
     * @throws IllegalArgumentException if a decoder comes without a tokenizer
     */
    public static ServedModel open(Path path) throws IOException {
        return open(path, UnaryOperator.identity(), 0);
    }

    /**
     * As {@link #open(Path)}, serving {@code lmView.apply(lm)} for a decoder (for example the model with an F16 or
     * Q8_0 KV cache); an exception from lmView closes the model and propagates. A request's prompt plus generated
     * tokens may use at most {@code contextLimit} positions (0: the model's whole context). Each request's KV
     * cache is sized for its prompt plus its {@code max_tokens}, so this bounds a slot's cache memory, which a
     * model with a long context would otherwise let one request without {@code max_tokens} take.
     *
     * @throws IOException if the model cannot be read
     * @throws IllegalArgumentException if a decoder comes without a tokenizer, from lmView, or if contextLimit {@literal <} 0
     */
    public static ServedModel open(Path path, UnaryOperator<CausalLM> lmView, int contextLimit) throws IOException {
        String id = path.getFileName().toString();
        LoadedModel loaded = ModelLoader.open(path);
        ModelLoader.releaseLoadGarbage();
        if (loaded.lm() == null) {
            loaded.close();
            EmbeddingModel e = EmbeddingModel.open(path);
            return encoder(id, e);
        }
        try {
            Tokenizer tok = loaded.optionalTokenizer().orElseThrow(() -> new IllegalArgumentException(id
                    + " has no tokenizer (no tokenizer.json / GGUF tokenizer metadata): serve needs one"));
            ChatTemplate t = ChatTemplates.find(path, tok).orElse(null);
            return new ServedModel(id, lmView.apply(loaded.lm()), tok, t, null, loaded, contextLimit);
        } catch (IOException | RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    /** A decoder served under {@code id}; {@code template} null means the plain chat format. Not closed by us. */
    public static ServedModel decoder(String id, CausalLM lm, Tokenizer tokenizer, ChatTemplate template) {
        return new ServedModel(id, Objects.requireNonNull(lm, "lm"), Objects.requireNonNull(tokenizer, "tokenizer"),
                template, null, null, 0);
    }

    /**
     * As {@link #decoder(String, CausalLM, Tokenizer, ChatTemplate)} with requests limited to {@code contextLimit}
     * positions, prompt included (0: the model's whole context).
     */
    public static ServedModel decoder(String id, CausalLM lm, Tokenizer tokenizer, ChatTemplate template,
                                      int contextLimit) {
        return new ServedModel(id, Objects.requireNonNull(lm, "lm"), Objects.requireNonNull(tokenizer, "tokenizer"),
                template, null, null, contextLimit);
    }

    /** An encoder served under {@code id} for embeddings; closing the served model closes it. */
    public static ServedModel encoder(String id, EmbeddingModel model) {
        return new ServedModel(id, null, null, null, Objects.requireNonNull(model, "model"), model, 0);
    }

    /** The model id clients name in requests and {@code /v1/models} lists. */
    public String id() {
        return id;
    }

    /** The causal LM, if this is a decoder. */
    public Optional<CausalLM> lm() {
        return Optional.ofNullable(lm);
    }

    /**
     * Positions a request may use, prompt plus generated tokens: the smaller of the model's context and the
     * server's limit (0 for an encoder).
     */
    public int contextLength() {
        return contextLength;
    }

    /** The decoder's tokenizer (null for an encoder). */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The embedding model, if this is an encoder. */
    public Optional<EmbeddingModel> embedder() {
        return Optional.ofNullable(embedder);
    }

    /** Special end-of-turn tokens of the vocabulary that end a generation (besides EOS). */
    public int[] stopTokens() {
        return stopTokens.clone();
    }

    /** How chat prompts are built: "template" (the model's own) or "plain" (no template in the model). */
    public String chatFormat() {
        return template != null ? "template" : "plain";
    }

    /**
     * Token ids of a chat prompt: the model's template rendered with {@code add_generation_prompt} and tokenized
     * with special tokens parsed and no BOS added (the template writes it), as Hugging Face does; without a
     * template, {@link ChatTemplates#plainFormat} tokenized with the model's BOS.
     *
     * @throws dev.interlayer.models.chat.ChatTemplateException if the template refuses the conversation
     */
    public int[] chatPrompt(List<? extends Map<String, ?>> messages) {
        if (template != null) {
            return tokenizer.encode(template.render(messages, true), false, true);
        }
        return tokenizer.encode(ChatTemplates.plainFormat(messages, true), true, false);
    }

    /** Token ids of a text completion prompt: the text with the model's BOS, special-token text kept as text. */
    public int[] completionPrompt(String text) {
        return tokenizer.encode(text, true, false);
    }

    /** Token count of the input an embedding request pays for (each text as the encoder sees it). */
    public int embeddingTokens(List<String> texts) {
        return embeddingTokenIds(texts).stream().mapToInt(ids -> ids.length).sum();
    }

    /** Each text's token ids as the encoder sees them (special tokens included, truncated to its maximum). */
    public List<int[]> embeddingTokenIds(List<String> texts) {
        return texts.stream().map(t -> embedder.tokenIds(Objects.requireNonNull(t, "text"))).toList();
    }

    @Override
    public void close() throws Exception {
        if (resource != null) {
            resource.close();
        }
    }
}
