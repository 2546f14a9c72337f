package dev.interlayer.models.chat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.Safetensors;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Finds a model's chat template where llama.cpp and Hugging Face keep it, and renders the plain fallback format
 * for models without one.
 *
 * <p>Sources, in order: a GGUF file's {@code tokenizer.chat_template}; in a Hugging Face folder,
 * {@code chat_template.jinja}, else {@code tokenizer_config.json}'s {@code chat_template} (a string, or a list of
 * {@code {name, template}} from which the one named {@code default} is taken). {@code bos_token}/{@code
 * eos_token} are {@code tokenizer_config.json}'s (string or {@code {content}}), else the tokenizer's own texts.
 */
public final class ChatTemplates {
    /** GGUF metadata key of the template (llama.cpp's name). */
    public static final String GGUF_KEY = "tokenizer.chat_template";

    private ChatTemplates() {
    }

    /**
     * The chat template of the model at {@code model} (GGUF file or HF folder), if it has one.
     *
     * @param tokenizer the model's tokenizer (for the BOS/EOS texts), or null
     * @throws IOException if a file exists but cannot be read or parsed
     */
    public static Optional<ChatTemplate> find(Path model, Tokenizer tokenizer) throws IOException {
        String bos = tokenText(tokenizer, tokenizer == null ? OptionalInt.empty() : tokenizer.bos());
        String eos = tokenText(tokenizer, tokenizer == null ? OptionalInt.empty() : tokenizer.eos());
        if (Files.isDirectory(model)) {
            return fromHfFolder(model, bos, eos);
        }
        if (!Files.isRegularFile(model) || !model.getFileName().toString().endsWith(".gguf")) {
            return Optional.empty();
        }
        try (GgufFile f = Gguf.open(model)) {
            return fromGguf(f, bos, eos);
        }
    }

    /**
     * The template in a GGUF's metadata, with the given BOS/EOS texts.
     *
     * @throws IllegalArgumentException if the key holds something other than a string
     */
    public static Optional<ChatTemplate> fromGguf(GgufFile f, String bos, String eos) {
        String t = f.getString(GGUF_KEY);
        return t == null || t.isBlank() ? Optional.empty() : Optional.of(new ChatTemplate(t, bos, eos));
    }

    private static Optional<ChatTemplate> fromHfFolder(Path dir, String bos, String eos) throws IOException {
        Path cfgPath = dir.resolve("tokenizer_config.json");
        JsonObject cfg = Files.isRegularFile(cfgPath) ? Safetensors.parseJsonFile(cfgPath) : new JsonObject();
        bos = special(cfg, "bos_token", bos);
        eos = special(cfg, "eos_token", eos);
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            return Optional.of(new ChatTemplate(Files.readString(jinja, StandardCharsets.UTF_8), bos, eos));
        }
        JsonElement t = cfg.get("chat_template");
        if (t == null || t.isJsonNull()) {
            return Optional.empty();
        }
        if (t.isJsonPrimitive()) {
            return Optional.of(new ChatTemplate(t.getAsString(), bos, eos));
        }
        if (t.isJsonArray()) {
            for (JsonElement e : t.getAsJsonArray()) {
                JsonObject o = e.isJsonObject() ? e.getAsJsonObject() : null;
                if (o != null && o.has("name") && "default".equals(o.get("name").getAsString()) && o.has("template")) {
                    return Optional.of(new ChatTemplate(o.get("template").getAsString(), bos, eos));
                }
            }
            return Optional.empty();
        }
        throw new ModelFormatException(cfgPath, 0, "chat_template", "a string or a list of {name, template}",
                t.toString().substring(0, Math.min(40, t.toString().length())));
    }

    // tokenizer_config.json's bos_token/eos_token: a string, or an AddedToken object {"content": ...}.
    private static String special(JsonObject cfg, String key, String dflt) {
        JsonElement e = cfg.get(key);
        if (e == null || e.isJsonNull()) {
            return dflt;
        }
        if (e.isJsonPrimitive()) {
            return e.getAsString();
        }
        if (e.isJsonObject() && e.getAsJsonObject().has("content")) {
            return e.getAsJsonObject().get("content").getAsString();
        }
        return dflt;
    }

    private static String tokenText(Tokenizer t, OptionalInt id) {
        return t == null || id.isEmpty() ? "" : t.tokenText(id.getAsInt());
    }

    /**
     * The plain format for a model without a template: an optional system text, then one line per turn,
     * {@code "User: ...\n"} / {@code "Assistant: ...\n"} (other roles by their name with a capital), ending with
     * {@code "Assistant:"} when {@code addGenerationPrompt}. A system message is written as its text and a
     * blank line. No special tokens: tokenize with the model's BOS added.
     */
    public static String plainFormat(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, ?> m : messages) {
            String role = String.valueOf(m.get("role"));
            Object c = m.get("content");
            String content = c == null ? "" : c.toString();
            if (role.equals("system")) {
                sb.append(content).append("\n\n");
            } else {
                String name = role.equals("user") ? "User" : role.equals("assistant") ? "Assistant"
                        : role.isEmpty() ? role : Character.toUpperCase(role.charAt(0)) + role.substring(1);
                sb.append(name).append(": ").append(content).append('\n');
            }
        }
        if (addGenerationPrompt) {
            sb.append("Assistant:");
        }
        return sb.toString();
    }
}
