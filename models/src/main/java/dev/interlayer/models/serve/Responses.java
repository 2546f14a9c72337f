package dev.interlayer.models.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.interlayer.models.generate.GenerationResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

/**
 * The JSON bodies of OpenAI's API reference: chat completions ({@code chat.completion} and
 * {@code chat.completion.chunk}), text completions ({@code text_completion}), embeddings ({@code list} of
 * {@code embedding}) and usage counts.
 */
final class Responses {
    private Responses() {
    }

    /** The shape shared by one completion response or stream: id, object names, created time, model. */
    record Completion(String id, boolean chat, long created, String model) {

        private JsonObject head(boolean chunk) {
            JsonObject o = new JsonObject();
            o.addProperty("id", id);
            o.addProperty("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
            o.addProperty("created", created);
            o.addProperty("model", model);
            return o;
        }

        private static JsonObject choice(String finishReason) {
            JsonObject c = new JsonObject();
            c.addProperty("index", 0);
            c.add("logprobs", JsonNull.INSTANCE);
            if (finishReason == null) {
                c.add("finish_reason", JsonNull.INSTANCE);
            } else {
                c.addProperty("finish_reason", finishReason);
            }
            return c;
        }

        /** The whole answer (non-streaming). */
        JsonObject full(GenerationResult r) {
            JsonObject o = head(false);
            JsonObject c = choice(finishReason(r));
            if (chat) {
                JsonObject msg = new JsonObject();
                msg.addProperty("role", "assistant");
                msg.addProperty("content", r.text());
                c.add("message", msg);
            } else {
                c.addProperty("text", r.text());
            }
            JsonArray choices = new JsonArray();
            choices.add(c);
            o.add("choices", choices);
            o.add("usage", usage(r.promptTokens(), r.generatedTokens()));
            return o;
        }

        /**
         * One streamed chunk: {@code text} as the delta (chat: {@code delta.content}; the first chunk also carries
         * {@code role}), and {@code finishReason} on the last one (null before).
         */
        JsonObject chunk(String text, boolean first, String finishReason) {
            JsonObject o = head(true);
            JsonObject c = choice(finishReason);
            if (chat) {
                JsonObject delta = new JsonObject();
                if (first) {
                    delta.addProperty("role", "assistant");
                }
                if (text != null) {
                    delta.addProperty("content", text);
                }
                c.add("delta", delta);
            } else {
                c.addProperty("text", text == null ? "" : text);
            }
            JsonArray choices = new JsonArray();
            choices.add(c);
            o.add("choices", choices);
            return o;
        }

        /** The usage chunk that {@code stream_options.include_usage} asks for: no choices, usage set. */
        JsonObject usageChunk(GenerationResult r) {
            JsonObject o = head(true);
            o.add("choices", new JsonArray());
            o.add("usage", usage(r.promptTokens(), r.generatedTokens()));
            return o;
        }
    }

    /** "stop" for a stop token or string, "length" for the token limit or a full context. */
    static String finishReason(GenerationResult r) {
        return switch (r.stopReason()) {
            case STOP_TOKEN, STOP_STRING -> "stop";
            case MAX_TOKENS, CONTEXT_FULL -> "length";
        };
    }

    static JsonObject usage(int prompt, int completion) {
        JsonObject u = new JsonObject();
        u.addProperty("prompt_tokens", prompt);
        u.addProperty("completion_tokens", completion);
        u.addProperty("total_tokens", prompt + completion);
        return u;
    }

    /** {@code {"object":"list","data":[{"object":"embedding","index":i,"embedding":[...] or base64}],...}}. */
    static JsonObject embeddings(List<float[]> vectors, boolean base64, String model, int promptTokens) {
        JsonArray data = new JsonArray();
        for (int i = 0; i < vectors.size(); i++) {
            JsonObject e = new JsonObject();
            e.addProperty("object", "embedding");
            e.addProperty("index", i);
            float[] v = vectors.get(i);
            if (base64) {   // little-endian float32, as OpenAI's clients decode it
                ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                e.addProperty("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                JsonArray a = new JsonArray(v.length);
                for (float x : v) {
                    a.add(x);
                }
                e.add("embedding", a);
            }
            data.add(e);
        }
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        o.addProperty("model", model);
        JsonObject u = new JsonObject();
        u.addProperty("prompt_tokens", promptTokens);
        u.addProperty("total_tokens", promptTokens);
        o.add("usage", u);
        return o;
    }

    /** {@code /v1/models}: the served model, with how chat prompts are built and its per-request context (extensions). */
    static JsonObject models(ServedModel m, long created) {
        JsonObject e = new JsonObject();
        e.addProperty("id", m.id());
        e.addProperty("object", "model");
        e.addProperty("created", created);
        e.addProperty("owned_by", "interlayer");
        e.addProperty("kind", m.embedder().isPresent() ? "embedding" : "generation");
        if (m.lm().isPresent()) {
            e.addProperty("chat_format", m.chatFormat());
            e.addProperty("max_model_len", m.contextLength());   // vLLM's name for the per-request context
        }
        JsonArray data = new JsonArray();
        data.add(e);
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        return o;
    }
}
