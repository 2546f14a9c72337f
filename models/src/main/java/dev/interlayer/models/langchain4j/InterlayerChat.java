package dev.interlayer.models.langchain4j;

import dev.interlayer.models.chat.ChatTemplate;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.GenerationResult;
import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One local model set up for LangChain4j chat: the translation of a {@link ChatRequest} into a
 * {@link Generator} run and of its {@link GenerationResult} into a {@link ChatResponse}, shared by
 * {@link InterlayerChatModel} and {@link InterlayerStreamingChatModel}.
 *
 * <p>Per request: prompt = formatter(messages), encoded with the model's tokenizer (BOS as its file says,
 * special-token text kept as text); with {@link Builder#chatTemplate} the model's chat template renders the
 * messages and its output is encoded as Hugging Face's {@code apply_chat_template} does: special-token text such
 * as {@code <|im_start|>} becomes the special token, and no BOS is added (the template writes it);
 * sampling {@code Sampler.Stochastic(temperature, topK, topP, minP, seed)} — temperature 0 is greedy —
 * with the request's {@code temperature}, {@code topP}, {@code topK}, falling back to
 * {@link #defaultRequestParameters()}; at most {@code maxOutputTokens} tokens; generation ends at the
 * tokenizer's EOS or before the first of {@code stopSequences}. The response carries the text,
 * {@link TokenUsage}(prompt tokens incl. BOS, sampled tokens incl. a final EOS) and
 * {@link FinishReason#STOP} (EOS or stop sequence) or {@link FinishReason#LENGTH} (token limit or context
 * full). Tools, JSON response formats and frequency/presence penalties are refused with an
 * {@link UnsupportedFeatureException} rather than ignored.
 *
 * <p>Immutable and thread-safe: each request builds its own {@link Generator} call, which owns a fresh
 * session and KV cache, so concurrent requests and different conversations never share state. The
 * model's weights belong to the caller (close the {@code LoadedModel} after the chat models are done).
 */
public final class InterlayerChat {
    private final CausalLM lm;
    private final Tokenizer tokenizer;
    private final Function<List<ChatMessage>, String> formatter;
    private final boolean templated;   // formatter renders a chat template: parse special tokens, add no BOS
    private final ChatRequestParameters defaults;
    private final String modelName;
    private final float minP;
    private final long seed;
    private final float repetitionPenalty;
    private final int repeatLastN;

    private InterlayerChat(Builder b) {
        this.lm = b.lm;
        this.tokenizer = b.tokenizer;
        this.formatter = b.formatter;
        this.templated = b.templated;
        this.defaults = ChatRequestParameters.builder().modelName(b.modelName).temperature(b.temperature)
                .topP(b.topP).topK(b.topK).maxOutputTokens(b.maxOutputTokens).build();
        this.modelName = b.modelName;
        this.minP = b.minP;
        this.seed = b.seed;
        this.repetitionPenalty = b.repetitionPenalty;
        this.repeatLastN = b.repeatLastN;
    }

    /** A builder over a loaded causal LM and its tokenizer (e.g. {@code m.requireLm(), m.tokenizer()}). */
    public static Builder builder(CausalLM lm, Tokenizer tokenizer) {
        return new Builder(lm, tokenizer);
    }

    /** A LangChain4j {@code ChatModel} over this setup. */
    public InterlayerChatModel chatModel() {
        return new InterlayerChatModel(this);
    }

    /** A LangChain4j {@code StreamingChatModel} over this setup; each call streams on its own thread. */
    public InterlayerStreamingChatModel streamingChatModel() {
        return new InterlayerStreamingChatModel(this);
    }

    /** The parameters a request's unset ones fall back to (model name, temperature, topP, topK, maxOutputTokens). */
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }

    /** The model name reported in responses. */
    public String modelName() {
        return modelName;
    }

    /** The prompt the model continues for {@code messages}. */
    public String prompt(List<ChatMessage> messages) {
        return Objects.requireNonNull(formatter.apply(messages), "prompt formatter returned null");
    }

    /** The prompt's token ids: {@link #prompt} encoded as the class comment says (template or plain). */
    public int[] promptIds(List<ChatMessage> messages) {
        String text = prompt(messages);
        return templated ? tokenizer.encode(text, false, true) : tokenizer.encode(text);
    }

    /**
     * Runs {@code request} to completion in a fresh session. {@code onToken} (may be null) sees each
     * streamed piece; its text pieces concatenate to the response text.
     *
     * @throws UnsupportedFeatureException for tools, a non-text response format or frequency/presence penalties
     * @throws IllegalArgumentException    for out-of-range parameters (each named) or a prompt that does not fit
     *                                     the context
     */
    public ChatResponse generate(ChatRequest request, Consumer<Generator.Token> onToken) {
        ChatRequestParameters p = request.parameters() == null ? defaults : defaults.overrideWith(request.parameters());
        refuseUnsupported(p);
        Generator generator = generator(p);
        GenerationResult r = generator.generate(promptIds(request.messages()), onToken);
        FinishReason finish = switch (r.stopReason()) {
            case STOP_TOKEN, STOP_STRING -> FinishReason.STOP;
            case MAX_TOKENS, CONTEXT_FULL -> FinishReason.LENGTH;
        };
        return ChatResponse.builder().aiMessage(AiMessage.from(r.text())).modelName(modelName)
                .tokenUsage(new TokenUsage(r.promptTokens(), r.generatedTokens())).finishReason(finish).build();
    }

    // p is the request over the defaults, so temperature, topP, topK and maxOutputTokens are all set
    private Generator generator(ChatRequestParameters p) {
        int maxTokens = p.maxOutputTokens();
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxOutputTokens must be >= 1, got " + maxTokens);
        }
        Generator.Builder b = Generator.builder(lm, tokenizer).sampler(sampler(p.temperature(), p.topK(), p.topP()))
                .maxTokens(maxTokens).repetitionPenalty(repetitionPenalty, repeatLastN);
        if (p.stopSequences() != null) {
            b.stopStrings(p.stopSequences().toArray(String[]::new));
        }
        return b.build();
    }

    /** Stochastic validates temperature, topK and topP, naming each; at temperature 0 it picks the argmax. */
    private static Sampler.Stochastic sampler(double temperature, int topK, double topP, float minP, long seed) {
        return new Sampler.Stochastic((float) temperature, topK, (float) topP, minP, seed);
    }

    private Sampler.Stochastic sampler(double temperature, int topK, double topP) {
        return sampler(temperature, topK, topP, minP, seed);
    }

    private static void refuseUnsupported(ChatRequestParameters p) {
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty() || p.toolChoice() == ToolChoice.REQUIRED) {
            throw new UnsupportedFeatureException("tools are not supported by the Interlayer chat model");
        }
        if (p.responseFormat() != null && p.responseFormat().type() != ResponseFormatType.TEXT) {
            throw new UnsupportedFeatureException("response format " + p.responseFormat().type()
                    + " is not supported by the Interlayer chat model (text only)");
        }
        if (p.frequencyPenalty() != null && p.frequencyPenalty() != 0 || p.presencePenalty() != null && p.presencePenalty() != 0) {
            throw new UnsupportedFeatureException("frequencyPenalty and presencePenalty are not supported by the "
                    + "Interlayer chat model; use InterlayerChat.Builder.repetitionPenalty");
        }
    }

    /** Settings for an {@link InterlayerChat}. Defaults follow {@code ./interlayer generate}. */
    public static final class Builder {
        private final CausalLM lm;
        private final Tokenizer tokenizer;
        private Function<List<ChatMessage>, String> formatter = ChatPrompts.plain();
        private boolean templated;
        private String modelName = "interlayer";
        private double temperature = 0.8;
        private double topP = 0.95;
        private int topK = 40;
        private float minP = 0.05f;
        private int maxOutputTokens = 128;
        private long seed = 42;
        private float repetitionPenalty = 1f;
        private int repeatLastN = 64;

        private Builder(CausalLM lm, Tokenizer tokenizer) {
            this.lm = Objects.requireNonNull(lm, "lm");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer (chat needs text in and out)");
        }

        /** Messages to prompt (default {@link ChatPrompts#plain()}); plug a chat-template renderer here. */
        public Builder promptFormatter(Function<List<ChatMessage>, String> f) {
            this.formatter = Objects.requireNonNull(f, "promptFormatter");
            this.templated = false;
            return this;
        }

        /**
         * Renders messages with the model's chat template (for instance {@code ChatTemplates.find(path,
         * tokenizer)}) with {@code add_generation_prompt}; the rendered text is encoded with special tokens parsed
         * and no BOS added, as Hugging Face's {@code apply_chat_template} and {@code ./interlayer serve} do.
         */
        public Builder chatTemplate(ChatTemplate template) {
            Objects.requireNonNull(template, "chatTemplate");
            this.formatter = messages -> template.render(ChatPrompts.roleContentMaps(messages), true);
            this.templated = true;
            return this;
        }

        /** Name reported in responses (default "interlayer"). */
        public Builder modelName(String name) {
            this.modelName = Objects.requireNonNull(name, "modelName");
            return this;
        }

        /** Default temperature (0.8); 0 = greedy. */
        public Builder temperature(double t) {
            this.temperature = t;
            return this;
        }

        /** Default nucleus threshold (0.95; 1 = off). */
        public Builder topP(double p) {
            this.topP = p;
            return this;
        }

        /** Default top-k (40; 0 = off). */
        public Builder topK(int k) {
            this.topK = k;
            return this;
        }

        /** Min-p filter (0.05; 0 = off); LangChain4j has no request parameter for it. */
        public Builder minP(float p) {
            this.minP = p;
            return this;
        }

        /** Default token limit per response (128). */
        public Builder maxOutputTokens(int n) {
            this.maxOutputTokens = n;
            return this;
        }

        /** Sampling seed (42): every request starts its own generator from it, so equal requests give equal text. */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Repetition penalty over the last {@code lastN} tokens (1 = off, default), as {@link Generator.Builder#repetitionPenalty}. */
        public Builder repetitionPenalty(float penalty, int lastN) {
            this.repetitionPenalty = penalty;
            this.repeatLastN = lastN;
            return this;
        }

        /**
         * The chat setup.
         *
         * @throws IllegalArgumentException if a setting is out of range (named)
         */
        public InterlayerChat build() {
            // the Sampler and Generator check the settings now, not at the first request
            sampler(temperature, topK, topP, minP, seed);
            Generator.builder(lm, tokenizer).maxTokens(maxOutputTokens).repetitionPenalty(repetitionPenalty, repeatLastN);
            return new InterlayerChat(this);
        }
    }
}
