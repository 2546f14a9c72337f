package dev.interlayer.models.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.text.Normalizer;
import java.util.Base64;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Text-rewriting steps of a tokenizer.json {@code normalizer} (those that are not the SentencePiece ▁ handling):
 * {@code Precompiled} (SentencePiece's charsmap), {@code Replace} (a string or a regex, every occurrence),
 * {@code Lowercase}, {@code NFC}/{@code NFD}/{@code NFKC}/{@code NFKD} and {@code Strip}. Each applies to one
 * fragment of input between added tokens, as in Hugging Face.
 */
final class HfNormalizers {
    /** Step types {@link #step} knows, for messages. */
    static final String SUPPORTED = "Precompiled, Replace, Lowercase, NFC, NFD, NFKC, NFKD, Strip";

    private HfNormalizers() {
    }

    /**
     * The step described by {@code o}, or null if its type is not a text step.
     *
     * @throws IllegalArgumentException naming the field if the step is malformed
     */
    static UnaryOperator<String> step(JsonObject o) {
        String type = o.has("type") ? o.get("type").getAsString() : "?";
        return switch (type) {
            case "Precompiled" -> precompiled(o);
            case "Replace" -> replace(o);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Strip" -> strip(o);
            default -> null;
        };
    }

    /** {@code a} then {@code b}; null stands for "no step". */
    static UnaryOperator<String> andThen(UnaryOperator<String> a, UnaryOperator<String> b) {
        if (a == null) {
            return b;
        }
        return b == null ? a : s -> b.apply(a.apply(s));
    }

    private static UnaryOperator<String> precompiled(JsonObject o) {
        JsonElement e = o.get("precompiled_charsmap");
        if (e == null || e.isJsonNull() || e.getAsString().isEmpty()) {
            return s -> s;                           // an empty map: the identity (some converted files have it)
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(e.getAsString());
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("normalizer Precompiled.precompiled_charsmap: not base64 ("
                    + ex.getMessage() + ")", ex);
        }
        return PrecompiledCharsMap.parse(blob)::normalize;
    }

    private static UnaryOperator<String> replace(JsonObject o) {
        JsonObject pattern = o.has("pattern") && o.get("pattern").isJsonObject() ? o.getAsJsonObject("pattern") : null;
        if (pattern == null || !o.has("content")) {
            throw new IllegalArgumentException("normalizer Replace: needs a pattern {String|Regex} and a content");
        }
        String content = o.get("content").getAsString();
        if (pattern.has("String")) {
            String from = pattern.get("String").getAsString();
            if (from.isEmpty()) {
                throw new IllegalArgumentException("normalizer Replace.pattern.String: must not be empty");
            }
            return s -> s.replace(from, content);
        }
        if (pattern.has("Regex")) {
            Pattern p;
            try {
                p = Pattern.compile(pattern.get("Regex").getAsString());
            } catch (PatternSyntaxException ex) {
                throw new IllegalArgumentException("normalizer Replace.pattern.Regex: " + ex.getDescription(), ex);
            }
            String literal = Matcher.quoteReplacement(content);
            return s -> p.matcher(s).replaceAll(literal);
        }
        throw new IllegalArgumentException("normalizer Replace.pattern: expected String or Regex, found " + pattern);
    }

    private static UnaryOperator<String> strip(JsonObject o) {
        boolean left = !o.has("strip_left") || o.get("strip_left").getAsBoolean();
        boolean right = !o.has("strip_right") || o.get("strip_right").getAsBoolean();
        return s -> left && right ? s.strip() : left ? s.stripLeading() : right ? s.stripTrailing() : s;
    }
}
