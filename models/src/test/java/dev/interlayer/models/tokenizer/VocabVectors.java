package dev.interlayer.models.tokenizer;

import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test vectors: {@code X.gguf.inp} holds inputs separated by the line
 * {@code __ggml_vocab_test__}; {@code X.gguf.out} one line of space-separated ids per input (no BOS).
 */
record VocabVectors(List<String> inputs, List<int[]> expected) {
    private static final String SEP = "\n__ggml_vocab_test__\n";

    static VocabVectors load(Path gguf) throws IOException {
        String inp = Files.readString(Path.of(gguf + ".inp"), StandardCharsets.UTF_8);
        List<String> inputs = new ArrayList<>();
        int pos = 0;
        while (true) {
            int at = inp.indexOf(SEP, pos);
            if (at < 0) {
                break;
            }
            inputs.add(inp.substring(pos, at));
            pos = at + SEP.length();
        }
        List<String> lines = Files.readAllLines(Path.of(gguf + ".out"), StandardCharsets.UTF_8);
        List<int[]> expected = new ArrayList<>();
        for (String line : lines) {
            String t = line.trim();
            expected.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        if (inputs.size() != expected.size()) {
            throw new IOException(gguf + ": " + inputs.size() + " inputs but " + expected.size() + " output lines");
        }
        return new VocabVectors(inputs, expected);
    }

    /** Number of inputs whose ids equal the expected ids; prints each mismatch. */
    int countPasses(String name, java.util.function.Function<String, int[]> encode) {
        int pass = 0;
        for (int i = 0; i < inputs.size(); i++) {
            int[] got = encode.apply(inputs.get(i));
            if (Arrays.equals(got, expected.get(i))) {
                pass++;
            } else {
                System.out.println(name + " #" + i + " input " + escape(inputs.get(i)) + "\n  expected "
                        + Arrays.toString(expected.get(i)) + "\n  got      " + Arrays.toString(got));
            }
        }
        System.out.println(name + ": " + pass + "/" + inputs.size() + " pairs pass");
        return pass;
    }

    /**
     * Asserts that {@code t} encodes every input to its expected ids (no BOS, special-token text as plain text,
     * as llama.cpp's vectors are made); prints each mismatch first, so that a failure lists all of them.
     */
    void assertAllPass(String name, Tokenizer t) {
        int pass = countPasses(name, s -> t.encode(s, false, false));
        org.junit.jupiter.api.Assertions.assertEquals(inputs.size(), pass, name + ": every pair must match");
    }

    // s as a JSON string literal (control characters, quotes and backslashes escaped; other text kept), so that a
    // message shows exactly which characters an input had
    static String escape(String s) {
        return new JsonPrimitive(s).toString();
    }
}
