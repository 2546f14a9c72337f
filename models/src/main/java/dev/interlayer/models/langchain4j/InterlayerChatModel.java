package dev.interlayer.models.langchain4j;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.Objects;

/**
 * LangChain4j {@link ChatModel} over a local Interlayer model: {@code chat(...)} generates on the
 * calling thread in a fresh session (see {@link InterlayerChat} for how the request maps to sampling).
 * Thread-safe; concurrent calls run independent sessions.
 *
 * <pre>{@code
 * ChatModel model = InterlayerChat.builder(m.requireLm(), m.tokenizer()).build().chatModel();
 * String answer = model.chat("Once upon a time");
 * }</pre>
 */
public final class InterlayerChatModel implements ChatModel {
    private final InterlayerChat chat;

    /** A chat model over {@code chat}'s settings. */
    public InterlayerChatModel(InterlayerChat chat) {
        this.chat = Objects.requireNonNull(chat, "chat");
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return chat.generate(request, null);
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return chat.defaultRequestParameters();
    }
}
