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
            {"--method", "rtn", "--clip", "two-sided"}, {"--clip must be given with the MSE grid search", "got two-sided"},
            {"--method", "gptq", "--clip", "both", "--calibration", text.toString()},
            {"--clip must be symmetric or two-sided", "got both"},
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
            {"--method", "mixed", "--target-kld", "0.01", "--target-bits", "4", "--calibration", text.toString()},
            {"one of --target-kld X and --target-bits B", "both or neither"},
            {"--method", "mixed", "--bits", "4", "--target-bits", "4.5", "--calibration", text.toString()},
            {"--method mixed must be given without --bits", "--ladder"},
            {"--method", "gptq", "--ladder", "q8_0,q4_0", "--calibration", text.toString()},
            {"--ladder must be given with --method mixed only"},
            {"--method", "mixed", "--ladder", "q4_0,q8_0", "--target-bits", "4.5", "--calibration", text.toString()},
            {"from most to fewest bits"},
            {"--method", "gptq", "--format", "q9", "--calibration", text.toString()}, {"unknown format 'q9'", "i3"},
            // with --out the default ladder holds GGUF types only (q8_0, q5_0, q4_0): 4.5 bits is its floor
            {"--method", "mixed", "--target-bits", "2.5", "--calibration", text.toString()},
            {"--target-bits must be at least the ladder's fewest bits per weight (q4_0 (4-bit codes", "4.50", "got 2.5"},
            // a ladder rung without a GGUF type and --out: refused before any run
            {"--method", "mixed", "--ladder", "q8_0,q4_0,i3", "--target-bits", "4", "--calibration", text.toString()},
            {"cannot write the linears --ladder puts at i3 as i3 (3-bit codes", "no GGUF type"},
            {"--method", "gptq", "--format", "q4_0", "--group", "64", "--calibration", text.toString()},
            {"--group must be 32 with --format and --method mixed", "got 64"},
            // a held-out text shorter than one window: refused before quantizing, not after
            {"--method", "gptq", "--calibration", text.toString(), "--ctx", "64", "--eval", text.toString()},
            {"--eval", "needs at least one window of 64 tokens"},
            {"--method", "gptq", "--format", "q4_0", "--sym", "--calibration", text.toString()},
            {"--format must be given without --bits and --sym"},
            // a format without a GGUF type and --out: refused before quantizing, naming the format and what works
            {"--method", "gptq", "--format", "i3", "--calibration", text.toString()},
            {"cannot write every block linear as i3 (3-bit codes", "no GGUF type", "--eval FILE"},
            {"--method", "rtn", "--imatrix-out", dir.resolve("m.dat").toString()},
            {"--imatrix-out must be given with --calibration or --calibration-ids"},
            {"--method", "gptq", "--imatrix", text.toString()},
            {"--imatrix must be given with --method rtn or awq", "full Hessian", "got --method gptq"},
            {"--method", "rtn", "--imatrix", text.toString(), "--calibration", text.toString()},
            {"--imatrix must be given instead of --calibration"},
            {"--method", "rtn", "--imatrix", dir.resolve("none.dat").toString()}, {"--imatrix", "none.dat: not found"},
            {"--method", "rtn", "--imatrix", text.toString(), "--minmax"},
            {"--imatrix must be given without --minmax for rtn"},
            {"--method", "awq", "--imatrix", text.toString(), "--awq-objective", "block"},
            {"--awq-objective must be linear (the default) with --imatrix"},
            {"--method", "gptq", "--awq-scales", "group", "--calibration", text.toString()},
            {"--awq-scales must be site (the default) unless --method is awq", "got group"},
            {"--method", "awq", "--awq-scales", "layer", "--calibration", text.toString()},
            {"--awq-scales must be site, group or a positive number of input channels, got layer"},
            {"--method", "awq", "--awq-clip", "both", "--calibration", text.toString()},
            {"--awq-clip must be symmetric or two-sided, got both"},
            {"--method", "awq-gptq", "--awq-clip", "two-sided", "--calibration", text.toString()},
            {"--awq-clip must be absent unless --method is awq", "got two-sided"},
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

    /** The exported importance matrix reads back: one entry per block linear, its dataset named by file name. */
    @Test
    void imatrixOutWritesAnImportanceMatrixThatReadsBack() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path text = story("calib.txt");
        Path imatrix = dir.resolve("m.dat");
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn",
                "--calibration", text.toString(), "--imatrix-out", imatrix.toString(),
                "--out", dir.resolve("q.gguf").toString());
        assertEquals(0, r.code(), r.err());
        var m = dev.interlayer.models.quantize.Imatrix.read(imatrix);
        // stories260K: 5 layers of q, k, v, o, gate, up, down
        assertEquals(35, m.meanSquares().size(), m.meanSquares().keySet().toString());
        assertEquals(64, m.meanSquares().get("blk.0.attn_q.weight").length);
        assertTrue(java.util.Arrays.stream(m.meanSquares().get("blk.0.attn_q.weight")).allMatch(v -> v > 0),
                "E[x^2] of a normed input is positive in every column");
        byte[] bytes = Files.readAllBytes(imatrix);
        String tail = new String(bytes, bytes.length - "calib.txt".length(), "calib.txt".length(),
                java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("calib.txt", tail, "dataset name at the end of the legacy file");
    }

    /**
     * {@code --imatrix-out}'s file read back by {@code --imatrix}: RTN weighs its clipping search with it (a file
     * other than the unweighted search's) and AWQ searches its scales on it, without calibration text.
     */
    @Test
    void imatrixFromImatrixOutDrivesRtnAndAwq() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path imatrix = dir.resolve("m.dat");
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn", "--mse",
                "--calibration", story("calib.txt").toString(), "--imatrix-out", imatrix.toString(),
                "--out", dir.resolve("plain.gguf").toString());
        assertEquals(0, r.code(), r.err());
        r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn", "--imatrix", imatrix.toString(),
                "--out", dir.resolve("weighted.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("rtn, MSE grid search weighted by importance, statistics of importance matrix m.dat"),
                r.out());
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(dir.resolve("plain.gguf")),
                Files.readAllBytes(dir.resolve("weighted.gguf"))), "the importance changed no clipping choice");
        r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "awq", "--imatrix", imatrix.toString(),
                "--awq-scales", "group", "--out", dir.resolve("awq.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("awq, two-sided clipping, one exponent per 32 input channels, min/max grids,"
                + " statistics of importance matrix m.dat"), r.out());
        try (GgufFile f = Gguf.open(dir.resolve("awq.gguf"))) {
            assertEquals(GgufType.Q4_1, f.info("blk.0.attn_q.weight").type());
        }
    }

    /** {@code --clip two-sided} reaches RTN's MSE grid search: another file than the proportional search's. */
    @Test
    void twoSidedClipChangesTheMseSearch() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn", "--mse",
                "--out", dir.resolve("sym.gguf").toString());
        assertEquals(0, r.code(), r.err());
        r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn", "--mse", "--clip", "two-sided",
                "--out", dir.resolve("two.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("rtn, MSE grid search (two-sided)"), r.out());
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(dir.resolve("sym.gguf")),
                Files.readAllBytes(dir.resolve("two.gguf"))), "the two-sided search changed no block");
    }

    /** llama-imatrix's own GGUF format (the committed fixture of ImatrixTest) drives {@code --imatrix} as well. */
    @Test
    void llamaCppGgufImatrixDrivesRtn() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path imatrix = Path.of(QuantizeCommandTest.class.getResource("/imatrix/stories260K-c64.imatrix.gguf").toURI());
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn",
                "--imatrix", imatrix.toString(), "--out", dir.resolve("g.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("statistics of importance matrix stories260K-c64.imatrix.gguf"), r.out());
    }

    /** An importance matrix of another model: a wrong length or a missing linear is named, with the file. */
    @Test
    void aMismatchedImatrixIsRefusedNamingFileAndTensor() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Object[][] cases = {
            {"blk.0.attn_q.weight", 10, "entry 'blk.0.attn_q.weight' has 10 values, but the tensor has 64 input columns"},
            {"blk.9.attn_q.weight", 64, "no entry for 'blk.0.attn_q.weight' (it has 1 entries, e.g. 'blk.9.attn_q.weight')"},
        };
        for (Object[] c : cases) {
            Path dat = legacyImatrix((String) c[0], (int) c[1]);
            EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "rtn",
                    "--imatrix", dat.toString(), "--out", dir.resolve("x.gguf").toString());
            assertNotEquals(0, r.code());
            assertTrue(r.err().contains("imatrix " + dat) && r.err().contains((String) c[2]), r.err());
            assertTrue(Files.notExists(dir.resolve("x.gguf")), "no file written");
        }
    }

    // a legacy imatrix.dat with one entry `name` of n values 1 (ncall 1)
    private Path legacyImatrix(String name, int n) throws java.io.IOException {
        byte[] nb = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var b = java.nio.ByteBuffer.allocate(16 + nb.length + 4 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(1).putInt(nb.length).put(nb).putInt(1).putInt(n);
        for (int i = 0; i < n; i++) {
            b.putFloat(1f);
        }
        return Files.write(dir.resolve(name + "-" + n + ".dat"), b.array());
    }

    @Test
    void propagationStrengthReachesTheQuantizerAndTheSummary() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path text = story("p.txt");
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
                text.toString(), "--ctx", "64", "--ladder", "q8_0,q4_1", "--target-kld", "0.01", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("\\((\\d+) q8_0, (\\d+) q4_1; ([0-9.]+) bits per weight; calibration KLD ([0-9.]+);"
                + " target KLD <= 0.01000").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(4)) <= 0.01, r.out());
        assertTrue(r.out().contains("rel. error"), r.out());
        int q4 = 0, q8 = 0;
        long bits = 0, weights = 0;
        try (GgufFile f = Gguf.open(out); LoadedModel model = ModelLoader.open(out)) {
            for (var t : f.tensorInfos()) {
                if (t.type() == GgufType.Q4_1 || t.type() == GgufType.Q8_0) {
                    q4 += t.type() == GgufType.Q4_1 ? 1 : 0;
                    q8 += t.type() == GgufType.Q8_0 ? 1 : 0;
                    bits += 8L * t.elements() / t.type().blockSize() * t.type().blockBytes();
                    weights += t.elements();
                }
            }
            assertTrue(model.requireLm().vocabSize() > 0);
        }
        assertEquals(Integer.parseInt(m.group(1)), q8, r.out());
        assertEquals(Integer.parseInt(m.group(2)), q4, r.out());
        // the reported average is the file's: block bytes of the quantized tensors over their weights (3 decimals)
        assertEquals((double) bits / weights, Double.parseDouble(m.group(3)), 5e-4, r.out());
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "quantized at %.3f bits per weight",
                (double) bits / weights)), r.out());
    }

    @Test
    void mixedBelowFourBitsEvaluatesInMemoryAndAnUnreachableKldBoundIsAnError() throws Exception {
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path text = dir.resolve("c.txt"), held = dir.resolve("h.txt");
        Files.writeString(text, "Once upon a time, there was a little boy named Tom. Tom had a red ball. He liked to"
                + " kick the ball in the park. One day, the ball went into a big tree. Tom was sad. His friend Sue came"
                + " to help. She had a long stick. They got the ball down and played all day. Tom said thank you.");
        Files.writeString(held, "Lily saw a big dog in the park. The dog was happy and wanted to play. Lily threw a"
                + " stick and the dog ran to get it. They played until the sun went down. Then Lily went home to eat.");
        // 3.2 bits per weight is below q4_0's 4.5 and i3's 3.5: the 2-bit rung must be used (no GGUF type: in memory)
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", stories, "--method", "mixed", "--calibration",
                text.toString(), "--ctx", "64", "--target-bits", "3.2", "--eval", held.toString());
        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("(\\d+) q8_0, (\\d+) q5_0, (\\d+) q4_0, (\\d+) i3, (\\d+) i2; ([0-9.]+) bits per"
                + " weight; calibration KLD ([0-9.]+); target <= 3.200 bits per weight").matcher(r.out());
        assertTrue(m.find(), r.out());
        double bpw = Double.parseDouble(m.group(6));
        assertTrue(bpw <= 3.2 && Integer.parseInt(m.group(5)) > 0, r.out());
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "quantized at %.3f bits per weight", bpw)), r.out());
        assertTrue(r.out().contains("KLD mean ") && r.out().contains("top-1 agreement"), "in-memory eval: " + r.out());
        // a KLD bound that even the ladder's highest format misses is an error, not a result over the bound
        Path out = dir.resolve("tight.gguf");
        EmbedCommandTest.Run t = EmbedCommandTest.run("quantize", "--model", stories, "--method", "mixed", "--ladder",
                "q5_0,q4_0", "--calibration", text.toString(), "--ctx", "64", "--target-kld", "1e-9", "--out", out.toString());
        assertNotEquals(0, t.code(), t.out());
        assertTrue(t.err().contains("--target-kld 0.000000: even every linear at its highest format (q5_0) gives KLD"),
                t.err());
        assertTrue(Files.notExists(out), "nothing written");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** A short calibration text (eight repeats of two sentences) in the temporary folder. */
    private Path story(String name) throws java.io.IOException {
        return Files.writeString(dir.resolve(name),
                "Once upon a time there was a little girl named Lily. She liked to play outside. ".repeat(8));
    }
}
