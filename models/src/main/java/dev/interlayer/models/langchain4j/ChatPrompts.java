package dev.interlayer.models.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Prompt formatters: a chat (a list of LangChain4j messages) rendered as the one prompt string the
 * model continues. A model's own chat template (GGUF {@code tokenizer.chat_template}) is the right
 * formatter for an instruction-tuned model; pass it to {@link InterlayerChat.Builder#chatTemplate}, which also
 * encodes the rendered special tokens as special tokens.
 */
public final class ChatPrompts {
    private ChatPrompts() {
    }

    /**
     * The default, a plain transcript that needs no template:
     * <ul>
     *   <li>a chat of exactly one user message is its text, unchanged (completion style, right for base
     *       models: {@code chat("Once upon a time")} continues that text);</li>
     *   <li>any other chat is one line per message, {@code "System: …"}, {@code "User: …"} or
     *       {@code "Assistant: …"}, joined with {@code "\n"}, followed by {@code "\nAssistant:"} for the
     *       model to continue. Add {@code "\nUser:"} to the request's stop sequences to end the turn.</li>
     * </ul>
     *
     * @throws IllegalArgumentException (when applied) for an empty chat, a user message that is not a
     *                                  single text (images, audio), an assistant message without text
     *                                  (tool calls) or a tool-result message
     */
    public static Function<List<ChatMessage>, String> plain() {
        return ChatPrompts::plainTranscript;
    }

    private static String plainTranscript(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("chat prompt: no messages");
        }
        if (messages.size() == 1 && messages.get(0) instanceof UserMessage u) {
            return userText(u, 0);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String line = switch (m) {
                case SystemMessage s -> "System: " + s.text();
                case UserMessage u -> "User: " + userText(u, i);
                case AiMessage a when a.text() != null -> "Assistant: " + a.text();
                default -> throw new IllegalArgumentException("chat prompt: message " + i + " of type " + m.type()
                        + " has no text this formatter can render (text-only system, user and assistant messages)");
            };
            sb.append(line).append('\n');
        }
        return sb.append("Assistant:").toString();
    }

    /**
     * The messages as a chat template's {@code messages}: one {@code {role, content}} map each, role
     * {@code system}, {@code user} or {@code assistant}.
     *
     * @throws IllegalArgumentException for an empty chat or a message without text (as {@link #plain()})
     */
    public static List<Map<String, Object>> roleContentMaps(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("chat prompt: no messages");
        }
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            out.add(switch (m) {
                case SystemMessage s -> Map.of("role", "system", "content", s.text());
                case UserMessage u -> Map.of("role", "user", "content", userText(u, i));
                case AiMessage a when a.text() != null -> Map.of("role", "assistant", "content", a.text());
                default -> throw new IllegalArgumentException("chat prompt: message " + i + " of type " + m.type()
                        + " has no text a chat template can render (text-only system, user and assistant messages)");
            });
        }
        return out;
    }

    private static String userText(UserMessage u, int index) {
        if (!u.hasSingleText()) {
            throw new IllegalArgumentException("chat prompt: user message " + index
                    + " is not a single text (this model reads text only)");
        }
        return u.singleText();
    }
}
