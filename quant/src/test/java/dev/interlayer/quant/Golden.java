package dev.interlayer.quant;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.tensor.testing.JsonArrays;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Reads the fixtures written by reference/quant-ptq/*.py (PyTorch float64, from the equations). */
final class Golden {
    private Golden() {
    }

    /**
     * Runs {@code check} on every case of golden/{file}, then checks that there were {@code expected} cases (a
     * regenerated fixture that lost some would otherwise pass on fewer).
     */
    static void forEachCase(String file, int expected, Consumer<JsonObject> check) {
        List<JsonObject> cases = cases(file);
        cases.forEach(check);
        org.junit.jupiter.api.Assertions.assertEquals(expected, cases.size(), "fixture cases");
    }

    static List<JsonObject> cases(String file) {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture golden/" + file);
            }
            JsonObject doc = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
            List<JsonObject> out = new ArrayList<>();
            for (JsonElement e : doc.getAsJsonArray("cases")) {
                out.add(e.getAsJsonObject());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The Hessian H = 2XᵀX/N of a case's calibration rows {@code x [n, cols]}, with its {@code keep} mask if it has one. */
    static double[] hessian(JsonObject c) {
        HessianAccumulator acc = new HessianAccumulator(c.get("cols").getAsInt());
        acc.accept(floats(c, "x"), c.get("n").getAsInt(), c.has("keep") ? bools(c, "keep") : null);
        return acc.hessian();
    }

    /** The padding mask {@code key} of a case (true = real token). */
    static boolean[] bools(JsonObject c, String key) {
        return JsonArrays.booleans(c.getAsJsonArray(key));
    }

    /** An array of arrays (one per head or per linear) as double[] each. */
    static double[][] doubleRows(JsonObject c, String key) {
        JsonArray a = c.getAsJsonArray(key);
        double[][] out = new double[a.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = doubles(element(a.get(i)), "v");
        }
        return out;
    }

    /** An array of arrays (one per linear) as float[] each. */
    static List<float[]> floatRows(JsonObject c, String key) {
        List<float[]> out = new ArrayList<>();
        for (JsonElement e : c.getAsJsonArray(key)) {
            out.add(floats(element(e), "v"));
        }
        return out;
    }

    // an element of an array of arrays, held under key "v" so that the readers by key apply to it
    private static JsonObject element(JsonElement e) {
        JsonObject holder = new JsonObject();
        holder.add("v", e);
        return holder;
    }

    static float[] floats(JsonObject c, String key) {
        return JsonArrays.floats(c.getAsJsonArray(key));
    }

    static double[] doubles(JsonObject c, String key) {
        return JsonArrays.doubles(c.getAsJsonArray(key));
    }

    static int[] ints(JsonObject c, String key) {
        return JsonArrays.ints(c.getAsJsonArray(key));
    }

    /** A case's scheme: {@code clip = [grid, maxShrink, norm(, twoSided)]}, scales {@code fmt} (default F32). */
    static QuantScheme scheme(JsonObject c) {
        JsonArray clip = c.getAsJsonArray("clip");
        return new QuantScheme(GridKind.valueOf(c.get("kind").getAsString()), c.get("bits").getAsInt(),
                c.get("group").getAsInt(), new ClipSearch(clip.get(0).getAsInt(), clip.get(1).getAsDouble(),
                clip.get(2).getAsDouble(), clip.size() > 3 && clip.get(3).getAsBoolean()),
                c.has("fmt") ? QuantScheme.ScaleFormat.valueOf(c.get("fmt").getAsString()) : QuantScheme.ScaleFormat.F32);
    }

    /** Asserts codes, scales and zeros equal the fixture's (codes and zeros exactly, scales as float32). */
    static void assertSame(JsonObject c, QuantizedLinear q) {
        String name = c.get("name").getAsString();
        int[] codes = ints(c, "codes");
        int mismatches = 0;
        String first = null;
        for (int i = 0; i < codes.length; i++) {
            int got = Byte.toUnsignedInt(q.codes()[i]);
            if (got != codes[i]) {
                mismatches++;
                if (first == null) {
                    first = "code[" + i / q.cols() + "," + i % q.cols() + "] = " + got + ", reference " + codes[i];
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(0, mismatches, name + ": " + mismatches + " codes differ, first " + first);
        double[] scales = doubles(c, "scales");
        int[] zeros = ints(c, "zeros");
        for (int i = 0; i < scales.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals((float) scales[i], q.scales()[i], name + " scale " + i);
            org.junit.jupiter.api.Assertions.assertEquals(zeros[i], q.zeros()[i], name + " zero " + i);
        }
    }
}
