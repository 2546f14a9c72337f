package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./interlayer quantize --method …} through Main's command line: flag errors, output, the mixed search. */
class QuantizeCommandTest {
    @TempDir
    Path dir;

    @Test
    void badFlagCombinationsFailBeforeLoadingWithClearMessages() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        String out = dir.resolve("o.gguf").toString();
        Path text = dir.resolve("c.txt");
        Files.writeString(text, "Once upon a time there was a cat.");
        String[][] cases = {
            {"--method", "gptq", "--bits", "3", "--calibration", text.toString()}, {"supported", "Q4_1"},
            {"--method", "rtn", "--group", "128"}, {"groups of 128", "supported"},
            {"--method", "gptq"}, {"needs --calibration"},
            {"--method", "rtn", "--type", "Q4_0"}, {"exactly one of --type"},
            {"--method", "mixed", "--calibration", text.toString()}, {"--target-kld"},
            {"--method", "gptq", "--target-kld", "0.1", "--calibration", text.toString()}, {"--target-kld"},
            {"--method", "hqq", "--calibration", text.toString()}, {"unknown --method 'hqq'", "aespa"},
            {"--method", "gptq", "--propagation", "1.5", "--calibration", text.toString()},
            {"--propagation must be in [0, 1], got 1.5"},
            {"--method", "mixed", "--propagation", "0.5", "--target-kld", "0.01", "--calibration", text.toString()},
            {"--propagation must be absent with --method mixed"},
            {"--method", "rtn", "--propagation", "0.5"}, {"--propagation must be absent with --method rtn"},
            {"--method", "gptq", "--mse", "--minmax", "--calibration", text.toString()}, {"--mse", "--minmax"},
            {"--method", "gptq", "--awq-objective", "block", "--calibration", text.toString()},
            {"--awq-objective must be linear", "awq or awq-gptq, got block"},
            {"--method", "gptq", "--awq-joint-clip", "--calibration", text.toString()},
            {"--awq-joint-clip must be absent unless --method is awq", "got --method gptq"},
            {"--method", "awq-gptq", "--awq-joint-clip", "--calibration", text.toString()},
            {"--awq-joint-clip must be absent", "awq-gptq does not clip", "got --method awq-gptq"},
            {"--method", "awq", "--awq-objective", "blocks", "--calibration", text.toString()},
            {"unknown --awq-objective 'blocks'", "block-float"},
            {"--method", "awq", "--awq-objective", "block-float", "--propagation", "0", "--calibration", text.toString()},
            {"--awq-objective", "--propagation 0"},
            // a 10-token text is shorter than one 64-token window: refused before the two quantizations
            {"--method", "mixed", "--calibration", text.toString(), "--ctx", "64", "--target-kld", "0.01"},
            {"--method mixed", "at least one window of 64"},
        };
        for (int i = 0; i < cases.length; i += 2) {
            String[] args = concat(new String[] {"quantize", "--model", stories, "--out", out}, cases[i]);
            EmbedCommandTest.Run r = EmbedCommandTest.run(args);
            assertNotEquals(0, r.code(), String.join(" ", args));
            for (String want : cases[i + 1]) {
                assertTrue(r.err().contains(want), String.join(" ", args) + " -> " + r.err());
            }
        }
        assertTrue(Files.notExists(Path.of(out)), "no file written on a flag error");
    }

    @Test
    void propagationStrengthReachesTheQuantizerAndTheSummary() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path text = dir.resolve("p.txt");
        Files.writeString(text, "Once upon a time there was a little girl named Lily. She liked to play outside. "
                .repeat(8));
        byte[][] files = new byte[2][];
        String[] alphas = {"0", "1"};
        for (int i = 0; i < 2; i++) {
            Path out = dir.resolve("p" + i + ".gguf");
            EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "gptq",
                    "--calibration", text.toString(), "--propagation", alphas[i], "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("error propagation " + alphas[i] + ".00"), r.out());
            assertTrue(r.out().contains("MSE grid search"), "gptq's default grid fit: " + r.out());
            files[i] = Files.readAllBytes(out);
        }
        // α = 1 moves every target by W·D·(H + λI)⁻¹ ≠ 0 (the quantized inputs differ from the unquantized ones
        // from layer 1 on), so the codes differ; α = 0 is the plain layer-wise target
        assertTrue(!java.util.Arrays.equals(files[0], files[1]), "--propagation 0 and 1 wrote the same file");
    }

    @Test
    void mixedMeetsItsKldBoundAndWritesQ8AndQ4Blocks() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path text = dir.resolve("c.txt");
        Files.writeString(text, "Once upon a time, there was a big cat named Tim. Tim liked to sleep in the sun. One day,"
                + " a little bird came to the garden. The bird said, \"Can we be friends?\" Tim was happy. They played"
                + " in the grass and ate cake under the tree. When the sun went down, the bird flew home. Tim smiled"
                + " and went to sleep. The next day, the bird came back with her mom. They all had fun together.");
        Path out = dir.resolve("mixed.gguf");
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "mixed", "--calibration",
                text.toString(), "--ctx", "64", "--target-kld", "0.01", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("(\\d+) of (\\d+) linears low, \\d+ high; calibration KLD ([0-9.]+) <= target 0.01000")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(3)) <= 0.01, r.out());
        assertTrue(r.out().contains("bits per weight") && r.out().contains("rel. error"), r.out());
        int low = Integer.parseInt(m.group(1)), q4 = 0, q8 = 0;
        try (GgufFile f = Gguf.open(out); LoadedModel model = ModelLoader.open(out)) {
            for (var t : f.tensorInfos()) {
                q4 += t.type() == GgufType.Q4_1 ? 1 : 0;
                q8 += t.type() == GgufType.Q8_0 ? 1 : 0;
            }
            assertTrue(model.requireLm().vocabSize() > 0);
        }
        assertEquals(low, q4, r.out());
        assertEquals(Integer.parseInt(m.group(2)) - low, q8, r.out());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
