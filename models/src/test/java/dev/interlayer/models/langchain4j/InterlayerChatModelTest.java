package dev.interlayer.models.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.generate.GenerationResult;
import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link InterlayerChatModel} through LangChain4j's {@code ChatModel} API on stories260K. Reference: the
 * library's own {@link Generator} on the same prompt (itself checked token for token against llama.cpp in
 * GeneratorTest), so every comparison below is between the adapter and a direct Generator run.
 */
class InterlayerChatModelTest {
    static final String PROMPT = "Once upon a time";
    static LoadedModel m;
    static InterlayerChat chat;
    static ChatModel model;

    @BeforeAll
    static void load() throws IOException {
        m = ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"));
        chat = InterlayerChat.builder(m.requireLm(), m.tokenizer()).modelName("stories260K").build();
        model = chat.chatModel();
    }

    @AfterAll
    static void close() {
        if (m != null) {
            m.close();
        }
    }

    static ChatRequest.Builder request(String text) {
        return ChatRequest.builder().messages(UserMessage.from(text));
    }

    static GenerationResult direct(String prompt, Sampler sampler, int maxTokens, String... stops) {
        return Generator.builder(m.requireLm(), m.tokenizer()).sampler(sampler).maxTokens(maxTokens)
                .stopStrings(stops).build().generate(prompt, null);
    }

    /** A prompt longer than the context: "once " is at least one token, and BOS comes on top. */
    static String tooLong() {
        return "once ".repeat(m.requireLm().contextLength());
    }

    static FinishReason expectedFinish(GenerationResult r) {
        return switch (r.stopReason()) {
            case STOP_TOKEN, STOP_STRING -> FinishReason.STOP;
            case MAX_TOKENS, CONTEXT_FULL -> FinishReason.LENGTH;
        };
    }

    @Test
    void temperatureZeroEqualsTheGeneratorWithUsageAndFinishReason() {
        ChatResponse r = model.chat(request(PROMPT).temperature(0.0).maxOutputTokens(40).build());
        GenerationResult g = direct(PROMPT, Sampler.greedy(), 40);
        assertEquals(g.text(), r.aiMessage().text());
        assertTrue(g.text().length() > 20, g.text());
        assertEquals(g.promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(g.generatedTokens(), r.tokenUsage().outputTokenCount());
        assertEquals(g.promptTokens() + g.generatedTokens(), r.tokenUsage().totalTokenCount());
        assertEquals(expectedFinish(g), r.finishReason());
        assertEquals("stories260K", r.modelName());
    }

    @Test
    void finishReasonLengthAtTheTokenLimit() {
        ChatResponse r = model.chat(request(PROMPT).temperature(0.0).maxOutputTokens(5).build());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(5, r.tokenUsage().outputTokenCount());
    }

    @Test
    void stopSequencesCutTheTextAndFinishWithStop() {
        String full = direct(PROMPT, Sampler.greedy(), 40).text();
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);   // a piece from the middle
        ChatResponse r = model.chat(request(PROMPT).temperature(0.0).maxOutputTokens(40).stopSequences(List.of(stop))
                .build());
        assertEquals(full.substring(0, full.indexOf(stop)), r.aiMessage().text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void samplingParametersReachTheSampler() {
        // temperature, topK, topP from the request; minP and seed from the builder (defaults 0.05, 42)
        ChatResponse r = model.chat(request(PROMPT).temperature(1.2).topK(20).topP(0.9).maxOutputTokens(30).build());
        GenerationResult g = direct(PROMPT, new Sampler.Stochastic(1.2f, 20, 0.9f, 0.05f, 42), 30);
        assertEquals(g.text(), r.aiMessage().text());
        // topK = 1 leaves only the argmax whatever the temperature: greedy text
        ChatResponse k1 = model.chat(request(PROMPT).temperature(1.5).topK(1).maxOutputTokens(30).build());
        assertEquals(direct(PROMPT, Sampler.greedy(), 30).text(), k1.aiMessage().text());
        assertNotEquals(k1.aiMessage().text(), r.aiMessage().text(), "sampling at 1.2 differs from greedy here");
    }

    @Test
    void unsetParametersFallBackToTheBuildersDefaults() {
        InterlayerChat c = InterlayerChat.builder(m.requireLm(), m.tokenizer()).temperature(0).maxOutputTokens(7).build();
        assertEquals(7, c.defaultRequestParameters().maxOutputTokens());
        ChatResponse r = c.chatModel().chat(request(PROMPT).build());
        GenerationResult g = direct(PROMPT, Sampler.greedy(), 7);
        assertEquals(g.text(), r.aiMessage().text());
        assertEquals(g.generatedTokens(), r.tokenUsage().outputTokenCount());
        assertEquals(g.text(), c.chatModel().chat(PROMPT), "ChatModel.chat(String)");
    }

    @Test
    void concurrentCallsEachGetTheirOwnSession() throws Exception {
        List<String> prompts = List.of(PROMPT, "The dog", "Lily wanted", "One day, a little");
        List<String> alone = new ArrayList<>();
        for (String p : prompts) {
            alone.add(direct(p, Sampler.greedy(), 48).text());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (String p : prompts) {
                    futures.add(pool.submit(() -> model.chat(request(p).temperature(0.0).maxOutputTokens(48).build())
                            .aiMessage().text()));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                assertEquals(alone.get(i % prompts.size()), futures.get(i).get(), "call " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aChatTemplatesSpecialTokensAreEncodedAsSpecialTokens() {
        // stories260K has no template of its own: a Mistral-style one that writes BOS and, after an earlier
        // answer, EOS as text. Encoded as text they would be a dozen byte/piece tokens each; as HF's
        // apply_chat_template does (and the server), they must be the single special tokens, with no BOS added.
        var tok = m.tokenizer();
        var template = new dev.interlayer.models.chat.ChatTemplate("{{ bos_token }}{% for m in messages %}"
                + "{% if m['role'] == 'user' %}{{ '[INST] ' + m['content'] + ' [/INST]' }}"
                + "{% else %}{{ ' ' + m['content'] + eos_token }}{% endif %}{% endfor %}",
                tok.tokenText(tok.bos().getAsInt()), tok.tokenText(tok.eos().getAsInt()));
        InterlayerChat c = InterlayerChat.builder(m.requireLm(), tok).chatTemplate(template).temperature(0)
                .maxOutputTokens(12).build();
        List<ChatMessage> chatHistory = List.of(UserMessage.from("Once upon a time"), AiMessage.from("there was a cat."),
                UserMessage.from("What next?"));
        int[] ids = c.promptIds(chatHistory);
        int bos = tok.bos().getAsInt();
        int eos = tok.eos().getAsInt();
        assertEquals(bos, ids[0]);
        assertEquals(1, java.util.Arrays.stream(ids).filter(id -> id == bos).count(), java.util.Arrays.toString(ids));
        assertEquals(1, java.util.Arrays.stream(ids).filter(id -> id == eos).count(), java.util.Arrays.toString(ids));
        GenerationResult ref = Generator.builder(m.requireLm(), tok).sampler(Sampler.greedy()).maxTokens(12).build()
                .generate(ids, null);
        ChatResponse r = c.chatModel().chat(ChatRequest.builder().messages(chatHistory).build());
        assertEquals(ref.text(), r.aiMessage().text());
        assertEquals(ids.length, r.tokenUsage().inputTokenCount());
        // the plain formatter keeps special-token text as text (a user typing "</s>" does not end a turn)
        InterlayerChat plain = InterlayerChat.builder(m.requireLm(), tok).build();
        int[] plainIds = plain.promptIds(List.of(UserMessage.from("a </s> b")));
        assertEquals(0, java.util.Arrays.stream(plainIds).filter(id -> id == eos).count());
    }

    @Test
    void thePromptFormatterIsPluggable() {
        List<ChatMessage> seen = new ArrayList<>();
        InterlayerChat c = InterlayerChat.builder(m.requireLm(), m.tokenizer()).promptFormatter(msgs -> {
            seen.addAll(msgs);
            return "The dog";
        }).build();
        ChatResponse r = c.chatModel().chat(request("ignored").temperature(0.0).maxOutputTokens(10).build());
        assertEquals(direct("The dog", Sampler.greedy(), 10).text(), r.aiMessage().text());
        assertEquals(List.of(UserMessage.from("ignored")), seen);
    }

    @Test
    void plainFormatterTranscript() {
        List<ChatMessage> chatLog = List.of(SystemMessage.from("Tell short stories."), UserMessage.from("A dog?"),
                AiMessage.from("The dog ran."), UserMessage.from("And then?"));
        assertEquals("System: Tell short stories.\nUser: A dog?\nAssistant: The dog ran.\nUser: And then?\nAssistant:",
                ChatPrompts.plain().apply(chatLog));
        assertEquals("Once upon a time", ChatPrompts.plain().apply(List.of(UserMessage.from("Once upon a time"))));
        assertThrows(IllegalArgumentException.class, () -> ChatPrompts.plain().apply(List.of()));
    }

    @Test
    void unsupportedAndInvalidRequestsAreRefusedByName() {
        ToolSpecification tool = ToolSpecification.builder().name("weather").build();
        assertThrows(UnsupportedFeatureException.class, () -> model.chat(request(PROMPT).toolSpecifications(tool).build()));
        assertThrows(UnsupportedFeatureException.class,
                () -> model.chat(request(PROMPT).responseFormat(ResponseFormat.JSON).build()));
        assertThrows(UnsupportedFeatureException.class, () -> model.chat(request(PROMPT).frequencyPenalty(0.5).build()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.chat(request(PROMPT).topP(1.5).build()));
        assertTrue(e.getMessage().contains("topP"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.chat(request(PROMPT).temperature(-1.0).build()));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.chat(request(tooLong()).build()));
        assertTrue(e.getMessage().contains("context"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.chat(request(PROMPT).maxOutputTokens(0).build()));
        assertTrue(e.getMessage().contains("maxOutputTokens"), e.getMessage());
        // the builder's defaults are checked when it builds
        e = assertThrows(IllegalArgumentException.class,
                () -> InterlayerChat.builder(m.requireLm(), m.tokenizer()).topP(2).build());
        assertTrue(e.getMessage().contains("topP"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> InterlayerChat.builder(m.requireLm(), m.tokenizer()).maxOutputTokens(0).build());
        assertTrue(e.getMessage().contains("maxTokens"), e.getMessage());
    }
}
