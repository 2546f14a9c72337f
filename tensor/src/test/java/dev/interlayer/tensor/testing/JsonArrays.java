package dev.interlayer.tensor.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;

/**
 * JSON arrays of the reference fixtures as Java arrays: the one reader behind every module's fixture helpers
 * (tensor's test jar is their shared test support). Floats are read with {@link JsonElement#getAsFloat}, which rounds
 * the decimal text to float once (not through double).
 */
public final class JsonArrays {
    private JsonArrays() {
    }

    /** The elements as ints. */
    public static int[] ints(JsonArray a) {
        return a.asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    }

    /** The elements as doubles. */
    public static double[] doubles(JsonArray a) {
        return a.asList().stream().mapToDouble(JsonElement::getAsDouble).toArray();
    }

    /** The elements as floats. */
    public static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    /** The elements as booleans. */
    public static boolean[] booleans(JsonArray a) {
        boolean[] out = new boolean[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsBoolean();
        }
        return out;
    }
}
