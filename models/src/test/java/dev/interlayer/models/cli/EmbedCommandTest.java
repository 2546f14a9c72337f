package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import dev.interlayer.models.embed.EmbeddingModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The embed and demo commands end to end (default model from the class path). */
class EmbedCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static synchronized Run run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err));
            int code = cl.execute(args);
            return new Run(code, buf.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void jsonOutputEqualsTheLibraryInOrder() throws Exception {
        Path input = dir.resolve("in.json");
        Files.writeString(input, "[\"first text\", \"zweiter Text ü\"]");
        Run r = run("embed", "--json", "--input", input.toString(), "third");
        assertEquals(0, r.code(), r.err());
        JsonArray e = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("embeddings");
        assertEquals(3, e.size());
        try (EmbeddingModel m = EmbeddingModel.defaultModel()) {
            List<float[]> expect = m.embed(List.of("first text", "zweiter Text ü", "third"));
            for (int i = 0; i < 3; i++) {
                JsonArray v = e.get(i).getAsJsonArray();
                assertEquals(384, v.size());
                for (int j = 0; j < 384; j++) {
                    // Float.toString round-trips a float exactly, but the two runs need not be bit-identical:
                    // before C2 compiles them, Vector API reductions run in Java fallback code whose
                    // summation order differs from the intrinsic's (seen: 7e-9 apart). 1e-6 is far below
                    // the 1e-4 budget against ONNX Runtime and still catches a reordered or wrong vector.
                    assertEquals(expect.get(i)[j], v.get(j).getAsFloat(), 1e-6f, "text " + i + " dim " + j);
                }
            }
        }
    }

    @Test
    void noTextIsAOneLineUsageError() {
        Run r = run("embed");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("TEXT"), r.err());
    }

    @Test
    void inputThatIsNotAStringArray() throws Exception {
        Path input = dir.resolve("in.json");
        Files.writeString(input, "{\"texts\": [\"a\"]}");
        Run r = run("embed", "--input", input.toString());
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("JSON array of strings"), r.err());
        Files.writeString(input, "[\"a\", 3]");
        r = run("embed", "--input", input.toString());
        assertTrue(r.err().contains("element 1"), r.err());
    }

    @Test
    void missingModelFile() {
        Run r = run("embed", "--model", dir.resolve("nope.onnx").toString(), "x");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void demoPrintsTheCosineMatrix() {
        Run r = run("demo");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Cosine similarity"), r.out());
        // The paraphrase pairs (1,2) and (3,4) must be the most similar off-diagonal entries of their rows.
        List<String> rows = r.out().lines().filter(l -> l.matches("\\s+\\[\\d]\\s+-?\\d.*")).toList();
        assertEquals(5, rows.size(), r.out());
        double[][] m = rows.stream().map(l -> java.util.Arrays.stream(l.trim().split("\\s+")).skip(1)
                .mapToDouble(Double::parseDouble).toArray()).toArray(double[][]::new);
        for (int i = 0; i < 5; i++) {
            assertEquals(1.0, m[i][i], 1e-3);
        }
        assertTrue(m[0][1] > 0.5 && m[2][3] > 0.5 && m[0][2] < 0.3, r.out());
    }
}
