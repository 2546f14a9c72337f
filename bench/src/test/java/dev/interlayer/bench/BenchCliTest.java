package dev.interlayer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as packaged here (every command on the class path): usage listings and bench's input checks. */
class BenchCliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void noArgumentsListsEveryCommand() {
        Run r = run();
        assertEquals(0, r.code(), r.err());
        for (String c : new String[] {"demo", "embed", "generate", "tokenize", "inspect", "logits", "hidden", "bench"}) {
            assertTrue(r.out().contains("  " + c + " "), c + " missing from:\n" + r.out());
        }
    }

    @Test
    void benchWithoutSubcommandListsGenerateToo() {
        Run r = run("bench");
        assertEquals(0, r.code(), r.err());
        for (String c : new String[] {"gemm", "matvec", "bandwidth", "generate", "batch", "speculative"}) {
            assertTrue(r.out().contains("  " + c + " "), c + " missing from:\n" + r.out());
        }
    }

    @Test
    void benchGenerateChecksItsInput() {
        String nope = dir.resolve("nope.gguf").toString();
        Run r = run("bench", "generate", "--model", nope);
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        assertTrue(r.err().contains(nope + ": not found"), r.err());
        r = run("bench", "generate", "--model", nope, "--threads", "100000");
        assertTrue(r.err().contains("--threads must be between 1 and"), r.err());
        r = run("bench", "gemm", "--threads", "0");
        assertTrue(r.err().contains("--threads must be between 1 and"), r.err());
        r = run("bench", "generate", "--model", nope, "--kv-type", "q4_0");   // checked before the file
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--kv-type must be one of f32, f16, q8_0, got q4_0"), r.err());
    }

    @Test
    void benchGenerateTakesAHuggingFaceFolderWithItsOwnTokenizer() {
        // the README promises HF folders for bench generate; it once failed with "Is a directory"
        Path hf = shared("hf-tiny-random/fake_gpt2");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        Run r;
        System.setOut(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        try {   // GenerateBench prints its report to System.out
            r = run("bench", "generate", "--model", hf.toString(), "--prompt-tokens", "6", "--gen-tokens", "2",
                    "--warmup-seconds", "0");
        } finally {
            System.setOut(stdout);
        }
        String out = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, r.code(), r.err() + out);
        assertTrue(out.contains("(Hugging Face folder)"), out);
        assertTrue(out.contains("prompt: 6 tokens (6 from the model's tokenizer"), out);
    }

    // ../shared/models next to the repository root, which is this module's parent (as models' SharedModels);
    // skips when absent, fails under CI=true
    private static Path shared(String relative) {
        Path p = Path.of("").toAbsolutePath().getParent().resolve("../shared/models").resolve(relative).normalize();
        Assumptions.assumeTrue(Files.exists(p) || "true".equals(System.getenv("CI")),
                "shared test data '" + relative + "' not found at " + p);
        return p;
    }

    @Test
    void benchBatchChecksItsInputAndRuns() {
        String nope = dir.resolve("nope.gguf").toString();
        Run r = run("bench", "batch", "--model", nope);
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        assertTrue(r.err().contains(nope + ": not found"), r.err());
        r = run("bench", "batch", "--model", nope, "--batch", "1,17");
        assertTrue(r.err().contains("--batch must be values in [1, 16]"), r.err());
        Path llama = shared("synthetic/synth-llama-256-f32.gguf");
        r = run("bench", "batch", "--model", llama.toString(), "--batch", "1,3", "--prompt-tokens", "3",
                "--gen-tokens", "2", "--warmup-seconds", "0");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void benchSpeculativeChecksItsInputAndRuns() {
        String nope = dir.resolve("nope.gguf").toString();
        Run r = run("bench", "speculative", "--model", nope, "--draft-layers", "1");
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        assertTrue(r.err().contains(nope + ": not found"), r.err());
        r = run("bench", "speculative", "--model", nope, "--draft-layers", "1", "--speculations", "2,0");
        assertTrue(r.err().contains("--speculations must be >= 1"), r.err());
        Path stories = Path.of("").toAbsolutePath().getParent()
                .resolve("../shared/models/stories260K/stories260K.gguf").normalize();
        Assumptions.assumeTrue(Files.exists(stories) || "true".equals(System.getenv("CI")),
                "../shared/models (test data outside the repository) not found");
        r = run("bench", "speculative", "--model", stories.toString(), "--draft-layers", "9");
        assertTrue(r.err().contains("--draft-layers must be in [1, 5]"), r.err());
        // E = 2 and E = L (every draft accepted); the bench itself fails if an output differs from normal greedy
        r = run("bench", "speculative", "--model", stories.toString(), "--draft-layers", "2,5", "--gen-tokens", "8",
                "--rounds", "1", "--warmup-rounds", "0");
        assertEquals(0, r.code(), r.err());
    }
}
