package dev.interlayer.models.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link InterlayerStreamingChatModel} through LangChain4j's {@code StreamingChatModel} API on stories260K:
 * partial responses concatenate to the complete response, which equals the (Generator-checked)
 * {@link InterlayerChatModel} answer; exactly one terminal callback; errors reach {@code onError}.
 */
class InterlayerStreamingChatModelTest {
    static LoadedModel m;
    static InterlayerChat chat;

    @BeforeAll
    static void load() throws IOException {
        m = ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"));
        chat = InterlayerChat.builder(m.requireLm(), m.tokenizer()).build();
    }

    @AfterAll
    static void close() {
        if (m != null) {
            m.close();
        }
    }

    /** Records every callback; {@link #await} waits for the terminal one. */
    static class Recorder implements StreamingChatResponseHandler {
        final List<String> partials = new ArrayList<>();
        final List<ChatResponse> completes = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();
        final List<String> threads = new ArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);

        @Override
        public synchronized void onPartialResponse(String text) {
            partials.add(text);
            threads.add(Thread.currentThread().getName());
        }

        @Override
        public synchronized void onCompleteResponse(ChatResponse r) {
            completes.add(r);
            done.countDown();
        }

        @Override
        public synchronized void onError(Throwable t) {
            errors.add(t);
            done.countDown();
        }

        Recorder await() throws InterruptedException {
            assertTrue(done.await(60, TimeUnit.SECONDS), "no terminal callback within 60 s");
            Thread.sleep(50);   // a second terminal callback, if any, would land here
            return this;
        }
    }

    static ChatRequest request(String text, int maxTokens, String... stops) {
        return ChatRequest.builder().messages(UserMessage.from(text)).temperature(0.0).maxOutputTokens(maxTokens)
                .stopSequences(List.of(stops)).build();
    }

    @Test
    void partialsConcatenateToTheCompleteResponseCalledOnce() throws Exception {
        ChatRequest req = request("Once upon a time", 48);
        Recorder rec = new Recorder();
        StreamingChatModel model = chat.streamingChatModel();
        model.chat(req, rec);
        rec.await();
        assertEquals(List.of(), rec.errors);
        assertEquals(1, rec.completes.size(), "onCompleteResponse calls");
        ChatResponse full = rec.completes.get(0);
        assertEquals(full.aiMessage().text(), String.join("", rec.partials));
        assertTrue(rec.partials.size() > 10, "streamed in pieces: " + rec.partials.size());
        assertTrue(rec.partials.stream().noneMatch(String::isEmpty), "no empty pieces");
        assertTrue(rec.threads.stream().allMatch(t -> t.equals("interlayer-chat")), "generation off the caller's thread");

        ChatResponse blocking = chat.chatModel().chat(req);
        assertEquals(blocking.aiMessage().text(), full.aiMessage().text());
        assertEquals(blocking.tokenUsage(), full.tokenUsage());
        assertEquals(blocking.finishReason(), full.finishReason());
    }

    @Test
    void aStopSequenceIsNeverStreamed() throws Exception {
        String whole = chat.chatModel().chat(request("Once upon a time", 48)).aiMessage().text();
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 4);
        Recorder rec = new Recorder();
        chat.streamingChatModel().chat(request("Once upon a time", 48, stop), rec);
        rec.await();
        assertEquals(1, rec.completes.size());
        assertEquals(whole.substring(0, whole.indexOf(stop)), String.join("", rec.partials));
        assertEquals(String.join("", rec.partials), rec.completes.get(0).aiMessage().text());
    }

    @Test
    void errorsGoToOnErrorOnce() throws Exception {
        Recorder bad = new Recorder();
        chat.streamingChatModel().chat(ChatRequest.builder().messages(UserMessage.from("x")).topP(7.0).build(), bad);
        bad.await();
        assertEquals(1, bad.errors.size());
        assertInstanceOf(IllegalArgumentException.class, bad.errors.get(0));
        assertTrue(bad.errors.get(0).getMessage().contains("topP"), bad.errors.get(0).getMessage());
        assertEquals(List.of(), bad.completes);

        Recorder tooLong = new Recorder();
        chat.streamingChatModel().chat(request("once ".repeat(m.requireLm().contextLength()), 8), tooLong);
        tooLong.await();
        assertEquals(1, tooLong.errors.size());
        assertTrue(tooLong.errors.get(0).getMessage().contains("context"), tooLong.errors.get(0).getMessage());
        assertEquals(List.of(), tooLong.completes);

        // an exception thrown by the handler itself stops generation and is reported once
        RuntimeException boom = new IllegalStateException("handler failed");
        Recorder throwing = new Recorder() {
            @Override
            public synchronized void onPartialResponse(String text) {
                super.onPartialResponse(text);
                throw boom;
            }
        };
        chat.streamingChatModel().chat(request("Once upon a time", 48), throwing);
        throwing.await();
        assertEquals(1, throwing.partials.size());
        assertEquals(1, throwing.errors.size());
        assertSame(boom, throwing.errors.get(0));
        assertEquals(List.of(), throwing.completes);
    }

    @Test
    void cancellingStopsWithoutFurtherCallbacks() {
        // Runnable::run streams on this thread, so doChat returns only when the generation has ended
        StreamingChatModel model = new InterlayerStreamingChatModel(chat, Runnable::run);
        Recorder rec = new Recorder() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                onPartialResponse(partial.text());
                if (partials.size() == 3) {
                    context.streamingHandle().cancel();
                }
            }
        };
        model.chat(request("Once upon a time", 48), rec);
        assertEquals(3, rec.partials.size());
        assertEquals(List.of(), rec.completes, "no onCompleteResponse after cancel");
        assertEquals(List.of(), rec.errors, "no onError after cancel");
    }
}
