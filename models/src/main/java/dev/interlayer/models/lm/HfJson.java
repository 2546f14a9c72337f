package dev.interlayer.models.lm;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import java.util.function.Function;

/** Typed reads of Hugging Face {@code config.json} keys with clear messages for missing or mistyped keys. */
public final class HfJson {
    private HfJson() {
    }

    /**
     * Parses {@code folder}'s config.json with {@code parse} (a family's {@code fromHuggingFace}), turning its
     * {@link IllegalArgumentException} into a {@link ModelFormatException} that names config.json.
     *
     * @param field    what was being read, e.g. "gpt2 config"
     * @param expected what a valid value looks like, e.g. "a supported GPT-2 config"
     */
    public static <C> C parseConfig(HfFolder folder, Function<JsonObject, C> parse, String field, String expected)
            throws ModelFormatException {
        try {
            return parse.apply(folder.config());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(folder.dir().resolve("config.json"), -1, field, expected, e.getMessage(), e);
        }
    }

    /** True if {@code key} is present and not JSON null. */
    public static boolean has(JsonObject c, String key) {
        return c.has(key) && !c.get(key).isJsonNull();
    }

    /** A required integer key. @throws IllegalArgumentException naming the key */
    public static int requireInt(JsonObject c, String key) {
        if (!has(c, key)) {
            throw new IllegalArgumentException("config.json: missing '" + key + "'");
        }
        return asInt(c, key);
    }

    /** An integer key or {@code dflt} when absent or null. */
    public static int getInt(JsonObject c, String key, int dflt) {
        return has(c, key) ? asInt(c, key) : dflt;
    }

    /** A number key or {@code dflt} when absent or null. */
    public static double getDouble(JsonObject c, String key, double dflt) {
        if (!has(c, key)) {
            return dflt;
        }
        JsonElement e = c.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("config.json: '" + key + "' must be a number, got " + e);
        }
        return e.getAsDouble();
    }

    /** A boolean key or {@code dflt}. */
    public static boolean getBoolean(JsonObject c, String key, boolean dflt) {
        return has(c, key) ? c.get(key).getAsBoolean() : dflt;
    }

    /** A string key or {@code dflt}. */
    public static String getString(JsonObject c, String key, String dflt) {
        return has(c, key) ? c.get(key).getAsString() : dflt;
    }

    /** A nested object or null. */
    public static JsonObject getObject(JsonObject c, String key) {
        return has(c, key) && c.get(key).isJsonObject() ? c.getAsJsonObject(key) : null;
    }

    private static int asInt(JsonObject c, String key) {
        JsonElement e = c.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("config.json: '" + key + "' must be an integer, got " + e);
        }
        double v = e.getAsDouble();
        if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("config.json: '" + key + "' must be an integer, got " + e);
        }
        return (int) v;
    }
}
