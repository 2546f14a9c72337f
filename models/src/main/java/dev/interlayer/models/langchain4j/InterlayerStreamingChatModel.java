package dev.interlayer.models.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * LangChain4j {@link StreamingChatModel} over a local Interlayer model. {@code chat(request, handler)}
 * returns at once; the generation runs on the executor (default: a new daemon platform thread per call,
 * since decoding is CPU-bound) in its own session, and the handler sees
 * <ul>
 *   <li>{@code onPartialResponse} for each non-empty piece of text, in order; the pieces concatenate to the
 *       final text (pieces that could still turn into a stop sequence are held back until they cannot);</li>
 *   <li>then exactly one of {@code onCompleteResponse} (text, {@code TokenUsage}, {@code FinishReason}) or
 *       {@code onError} (bad parameters, a prompt that does not fit, an exception thrown by the handler's
 *       own {@code onPartialResponse}, which also stops the generation).</li>
 * </ul>
 * Cancelling through {@code PartialResponseContext.streamingHandle()} stops at the next token, after which
 * the handler hears nothing more.
 */
public final class InterlayerStreamingChatModel implements StreamingChatModel {
    private final InterlayerChat chat;
    private final Executor executor;

    /** A streaming model over {@code chat}'s settings, one daemon thread per call. */
    public InterlayerStreamingChatModel(InterlayerChat chat) {
        this(chat, task -> Thread.ofPlatform().daemon().name("interlayer-chat").start(task));
    }

    /** As above, running each call on {@code executor} ({@code Runnable::run} streams on the caller's thread). */
    public InterlayerStreamingChatModel(InterlayerChat chat, Executor executor) {
        this.chat = Objects.requireNonNull(chat, "chat");
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Objects.requireNonNull(handler, "handler");
        Handle handle = new Handle();
        try {
            executor.execute(() -> run(request, handler, handle));
        } catch (RuntimeException e) {   // e.g. a rejecting executor: the handler still hears of it
            handler.onError(e);
        }
    }

    private void run(ChatRequest request, StreamingChatResponseHandler handler, Handle handle) {
        PartialResponseContext context = new PartialResponseContext(handle);
        ChatResponse response;
        try {
            response = chat.generate(request, token -> {
                if (handle.isCancelled()) {
                    throw Cancelled.INSTANCE;
                }
                if (!token.text().isEmpty()) {
                    handler.onPartialResponse(new PartialResponse(token.text()), context);
                }
            });
        } catch (Cancelled c) {
            return;
        } catch (RuntimeException | Error e) {
            if (!handle.isCancelled()) {
                handler.onError(e);
            }
            return;
        }
        if (!handle.isCancelled()) {
            handler.onCompleteResponse(response);
        }
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return chat.defaultRequestParameters();
    }

    /** The cancel flag the handler reaches through its PartialResponseContext. */
    private static final class Handle implements StreamingHandle {
        private final AtomicBoolean cancelled = new AtomicBoolean();

        @Override
        public void cancel() {
            cancelled.set(true);
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get();
        }
    }

    /** Unwinds a cancelled generation out of the token callback (no stack trace: it is control flow). */
    private static final class Cancelled extends RuntimeException {
        static final Cancelled INSTANCE = new Cancelled();

        private Cancelled() {
            super("cancelled", null, false, false);
        }
    }
}
