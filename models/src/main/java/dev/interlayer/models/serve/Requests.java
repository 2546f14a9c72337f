package dev.interlayer.models.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.interlayer.models.chat.ChatTemplateException;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Reads OpenAI request bodies into what the server runs, checking every field it uses: a wrong type, a value
 * out of range, an unknown model or {@code n} other than 1 is an {@link ApiError} (400) naming the field.
 * Fields the server does not use (user, logit_bias, presence_penalty, ...) are ignored, as llama.cpp does.
 */
final class Requests {
    /** Stop strings per request, and their length (OpenAI allows 4; llama.cpp's server any number). */
    static final int MAX_STOPS = 16, MAX_STOP_CHARS = 512;

    private Requests() {
    }

    /** A parsed chat or text completion request. */
    record Generation(int[] prompt, Generator generator, boolean stream, boolean includeUsage) {
    }

    /** A parsed embeddings request. */
    record Embeddings(List<String> inputs, boolean base64) {
    }

    // ---- body ----

    static JsonObject object(byte[] body) {
        JsonElement e;
        try {
            // strict RFC 8259 JSON: Gson's default lenient mode would take `nope` or {a:1} as valid
            JsonReader r = new JsonReader(new StringReader(new String(body, StandardCharsets.UTF_8)));
            r.setStrictness(Strictness.STRICT);
            e = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("trailing data after the JSON value");
            }
        } catch (JsonParseException | IOException ex) {
            throw ApiError.invalid("request body is not valid JSON: " + firstLine(ex.getMessage()), null);
        }
        if (!e.isJsonObject()) {
            throw ApiError.invalid("request body must be a JSON object", null);
        }
        return e.getAsJsonObject();
    }

    private static String firstLine(String s) {
        return s == null ? "parse error" : s.lines().findFirst().orElse(s);
    }

    static void checkModel(JsonObject o, ServedModel m) {
        String model = string(o, "model", null);
        if (model != null && !model.equals(m.id())) {
            throw new ApiError(400, "invalid_request_error", "unknown model '" + model + "'; this server serves '"
                    + m.id() + "'", "model");
        }
    }

    // ---- chat and text completions ----

    static Generation chat(JsonObject o, ServedModel m) {
        CausalLM lm = decoder(o, m);
        JsonArray msgs = array(o, "messages");
        if (msgs == null || msgs.isEmpty()) {
            throw ApiError.invalid("'messages' must be a non-empty array of {role, content}", "messages");
        }
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            messages.add(message(msgs.get(i), "messages[" + i + "]"));
        }
        int[] prompt;
        try {
            prompt = m.chatPrompt(messages);
        } catch (ChatTemplateException e) {
            throw ApiError.invalid("chat template: " + e.getMessage(), "messages");
        }
        return generation(o, m, lm, prompt, "messages");
    }

    static Generation completion(JsonObject o, ServedModel m) {
        CausalLM lm = decoder(o, m);
        JsonElement p = o.get("prompt");
        String text;
        if (p != null && p.isJsonPrimitive() && p.getAsJsonPrimitive().isString()) {
            text = p.getAsString();
        } else if (p != null && p.isJsonArray() && p.getAsJsonArray().size() == 1 && isString(p.getAsJsonArray().get(0))) {
            text = p.getAsJsonArray().get(0).getAsString();
        } else {
            throw ApiError.invalid("'prompt' must be a string (or a list of one string)", "prompt");
        }
        return generation(o, m, lm, m.completionPrompt(text), "prompt");
    }

    private static CausalLM decoder(JsonObject o, ServedModel m) {
        checkModel(o, m);
        return m.lm().orElseThrow(() -> ApiError.invalid("model '" + m.id() + "' is an encoder: it makes embeddings"
                + " (/v1/embeddings), not completions", "model"));
    }

    private static Map<String, Object> message(JsonElement e, String where) {
        if (!e.isJsonObject()) {
            throw ApiError.invalid(where + " must be an object {role, content}", "messages");
        }
        JsonObject m = e.getAsJsonObject();
        String role = string(m, "role", null);
        if (role == null) {
            throw ApiError.invalid(where + ".role is required", "messages");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", role);
        out.put("content", content(m.get("content"), where));
        JsonElement name = m.get("name");
        if (name != null && isString(name)) {
            out.put("name", name.getAsString());
        }
        return out;
    }

    // content: a string, null, or a list of parts of which the text parts are joined (OpenAI's content parts).
    private static String content(JsonElement c, String where) {
        if (c == null || c.isJsonNull()) {
            return "";
        }
        if (isString(c)) {
            return c.getAsString();
        }
        if (c.isJsonArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonElement part : c.getAsJsonArray()) {
                if (!part.isJsonObject() || !"text".equals(string(part.getAsJsonObject(), "type", null))) {
                    throw ApiError.invalid(where + ".content: only text parts are supported", "messages");
                }
                sb.append(string(part.getAsJsonObject(), "text", ""));
            }
            return sb.toString();
        }
        throw ApiError.invalid(where + ".content must be a string or a list of text parts", "messages");
    }

    // Sampling, limits and streaming flags shared by both completion endpoints.
    private static Generation generation(JsonObject o, ServedModel m, CausalLM lm, int[] prompt, String promptField) {
        int n = integer(o, "n", 1);
        if (n != 1) {
            throw ApiError.invalid("only n = 1 is supported, got " + n, "n");
        }
        if (prompt.length == 0) {
            throw ApiError.invalid("the prompt has no tokens", promptField);
        }
        int room = m.contextLength() - prompt.length;
        if (room < 1) {
            throw ApiError.invalid("prompt of " + prompt.length + " tokens does not fit the context of "
                    + m.contextLength() + " tokens" + contextNote(m, lm), promptField);
        }
        String maxKey = o.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int maxTokens = integer(o, maxKey, room);
        if (maxTokens < 1) {
            throw ApiError.invalid("'" + maxKey + "' must be >= 1, got " + maxTokens, maxKey);
        }
        if (maxTokens > room) {   // refused rather than cut: the client asked for more than the context holds
            throw ApiError.invalid("'" + maxKey + "' = " + maxTokens + " plus the prompt's " + prompt.length
                    + " tokens exceeds the context of " + m.contextLength() + " tokens" + contextNote(m, lm), maxKey);
        }
        double temperature = number(o, "temperature", 1.0);
        if (temperature < 0 || temperature > 2) {
            throw ApiError.invalid("'temperature' must be in [0, 2], got " + temperature, "temperature");
        }
        double topP = number(o, "top_p", 1.0);
        if (!((float) topP > 0 && topP <= 1)) {   // checked as the float the sampler gets (1e-46 rounds to 0)
            throw ApiError.invalid("'top_p' must be in (0, 1], got " + topP, "top_p");
        }
        int topK = integer(o, "top_k", 0);
        if (topK < 0) {
            throw ApiError.invalid("'top_k' must be >= 0 (0 = off), got " + topK, "top_k");
        }
        long seed = absent(o, "seed") ? ThreadLocalRandom.current().nextLong() : longInteger(o, "seed");
        Sampler sampler = temperature == 0 ? Sampler.greedy()
                : new Sampler.Stochastic((float) temperature, topK, (float) topP, 0f, seed);
        Generator.Builder b = Generator.builder(lm, m.tokenizer()).sampler(sampler).maxTokens(maxTokens)
                .stopTokens(m.stopTokens());
        List<String> stops = stops(o);
        b.stopStrings(stops.toArray(String[]::new));
        boolean stream = bool(o, "stream", false);
        boolean includeUsage = false;
        JsonElement so = o.get("stream_options");
        if (so != null && !so.isJsonNull()) {
            if (!so.isJsonObject()) {
                throw ApiError.invalid("'stream_options' must be an object", "stream_options");
            }
            includeUsage = bool(so.getAsJsonObject(), "include_usage", false);
        }
        return new Generation(prompt, b.build(), stream, includeUsage);
    }

    private static String contextNote(ServedModel m, CausalLM lm) {
        return m.contextLength() < lm.contextLength()
                ? " (the server's --ctx; the model has " + lm.contextLength() + ")" : "";
    }

    private static List<String> stops(JsonObject o) {
        JsonElement s = o.get("stop");
        List<String> out = new ArrayList<>();
        if (s == null || s.isJsonNull()) {
            return out;
        }
        if (isString(s)) {
            out.add(s.getAsString());
        } else if (s.isJsonArray()) {
            for (JsonElement e : s.getAsJsonArray()) {
                if (!isString(e)) {
                    throw ApiError.invalid("'stop' must be a string or a list of strings", "stop");
                }
                out.add(e.getAsString());
            }
        } else {
            throw ApiError.invalid("'stop' must be a string or a list of strings", "stop");
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiError.invalid("'stop' strings must be non-empty", "stop");
        }
        // every stop string is searched after every token on the scheduler thread, which all streams share
        if (out.size() > MAX_STOPS || out.stream().anyMatch(x -> x.length() > MAX_STOP_CHARS)) {
            throw ApiError.invalid("'stop' takes at most " + MAX_STOPS + " strings of at most " + MAX_STOP_CHARS
                    + " characters", "stop");
        }
        return out;
    }

    // ---- embeddings ----

    static Embeddings embeddings(JsonObject o, ServedModel m) {
        checkModel(o, m);
        if (m.embedder().isEmpty()) {
            throw ApiError.invalid("model '" + m.id() + "' is not an embedding model: it is a decoder, and the library"
                    + " has no pooled decoder embedding; serve an encoder (BERT family) for /v1/embeddings", "model");
        }
        JsonElement in = o.get("input");
        List<String> texts = new ArrayList<>();
        if (in != null && isString(in)) {
            texts.add(in.getAsString());
        } else if (in != null && in.isJsonArray() && !in.getAsJsonArray().isEmpty()) {
            for (JsonElement e : in.getAsJsonArray()) {
                if (!isString(e)) {
                    throw ApiError.invalid("'input' must be a string or a list of strings (token-id input is not"
                            + " supported)", "input");
                }
                texts.add(e.getAsString());
            }
        } else {
            throw ApiError.invalid("'input' must be a string or a non-empty list of strings", "input");
        }
        String format = string(o, "encoding_format", "float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiError.invalid("'encoding_format' must be 'float' or 'base64', got '" + format + "'",
                    "encoding_format");
        }
        if (!absent(o, "dimensions")) {
            int d = integer(o, "dimensions", 0);
            int have = m.embedder().get().dimension();
            if (d != have) {
                throw ApiError.invalid("this model embeds into " + have + " dimensions, got 'dimensions' " + d,
                        "dimensions");
            }
        }
        return new Embeddings(texts, format.equals("base64"));
    }

    // ---- typed field access: wrong types are 400s naming the field ----

    private static boolean isString(JsonElement e) {
        return e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
    }

    // the field is absent or null: its default applies
    private static boolean absent(JsonObject o, String key) {
        return !o.has(key) || o.get(key).isJsonNull();
    }

    // the field as a primitive of the kind {@code ok} accepts, else a 400 "'key' must be EXPECTED, got VALUE"
    private static JsonPrimitive primitive(JsonObject o, String key, String expected, Predicate<JsonPrimitive> ok) {
        JsonElement e = o.get(key);
        if (!e.isJsonPrimitive() || !ok.test(e.getAsJsonPrimitive())) {
            throw ApiError.invalid("'" + key + "' must be " + expected + ", got " + e, key);
        }
        return e.getAsJsonPrimitive();
    }

    static String string(JsonObject o, String key, String dflt) {
        return absent(o, key) ? dflt : primitive(o, key, "a string", JsonPrimitive::isString).getAsString();
    }

    private static JsonArray array(JsonObject o, String key) {
        if (absent(o, key)) {
            return null;
        }
        JsonElement e = o.get(key);
        if (!e.isJsonArray()) {
            throw ApiError.invalid("'" + key + "' must be an array", key);
        }
        return e.getAsJsonArray();
    }

    private static double number(JsonObject o, String key, double dflt) {
        return absent(o, key) ? dflt : primitive(o, key, "a number",
                p -> p.isNumber() && Double.isFinite(p.getAsDouble())).getAsDouble();
    }

    private static long longInteger(JsonObject o, String key) {
        JsonPrimitive p = primitive(o, key, "an integer", JsonPrimitive::isNumber);
        try {
            return p.getAsBigDecimal().longValueExact();
        } catch (ArithmeticException e) {
            throw ApiError.invalid("'" + key + "' must be an integer in the 64-bit range, got " + p, key);
        }
    }

    private static int integer(JsonObject o, String key, int dflt) {
        if (absent(o, key)) {
            return dflt;
        }
        long v = longInteger(o, key);
        if (v != (int) v) {
            throw ApiError.invalid("'" + key + "' is out of range: " + v, key);
        }
        return (int) v;
    }

    private static boolean bool(JsonObject o, String key, boolean dflt) {
        return absent(o, key) ? dflt : primitive(o, key, "a boolean", JsonPrimitive::isBoolean).getAsBoolean();
    }
}
