package dev.interlayer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
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
        rejected("generate", null);
        rejected("generate", "--threads must be between 1 and", "--threads", "100000");
        Run r = run("bench", "gemm", "--threads", "0");
        assertTrue(r.err().contains("--threads must be between 1 and"), r.err());
        // checked before the file
        rejected("generate", "--kv-type must be one of f32, f16, q8_0, got q4_0", "--kv-type", "q4_0");
    }

    // `bench <command> --model <a missing file> <more>` is a usage error whose message has `message`, or (null)
    // names the file as not found
    private void rejected(String command, String message, String... more) {
        String nope = dir.resolve("nope.gguf").toString();
        Run r = run(Stream.concat(Stream.of("bench", command, "--model", nope), Stream.of(more)).toArray(String[]::new));
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        assertTrue(r.err().contains(message != null ? message : nope + ": not found"), r.err());
    }

    // what body prints to System.out (the bench commands print their reports there, not to the picocli writer)
    private static String stdoutOf(Runnable body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setOut(stdout);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void benchGenerateTakesAHuggingFaceFolderWithItsOwnTokenizer() {
        // the README promises HF folders for bench generate; it once failed with "Is a directory"
        Path hf = shared("hf-tiny-random/fake_gpt2");
        Run[] result = new Run[1];
        String out = stdoutOf(() -> result[0] = run("bench", "generate", "--model", hf.toString(), "--prompt-tokens", "6",
                "--gen-tokens", "2", "--warmup-seconds", "0"));
        Run r = result[0];
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
        rejected("batch", null);
        rejected("batch", "--batch must be values in [1, 16]", "--batch", "1,17");
        Path llama = shared("synthetic/synth-llama-256-f32.gguf");
        Run r = run("bench", "batch", "--model", llama.toString(), "--batch", "1,3", "--prompt-tokens", "3",
                "--gen-tokens", "2", "--warmup-seconds", "0");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void benchSpeculativeChecksItsInputAndRuns() {
        rejected("speculative", null, "--draft-layers", "1");
        rejected("speculative", "--speculations must be >= 1", "--draft-layers", "1", "--speculations", "2,0");
        Path stories = shared("stories260K/stories260K.gguf");
        Run r = run("bench", "speculative", "--model", stories.toString(), "--draft-layers", "9");
        assertTrue(r.err().contains("--draft-layers must be in [1, 5]"), r.err());
        // E = 2 and E = L (every draft accepted); the bench itself fails if an output differs from normal greedy
        r = run("bench", "speculative", "--model", stories.toString(), "--draft-layers", "2,5", "--gen-tokens", "8",
                "--rounds", "1", "--warmup-rounds", "0");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void unsteadyComparesTheFastestWindowWithTheSlowest() {
        assertFalse(BenchCommand.Timing.unsteady(new double[] {7}));
        assertFalse(BenchCommand.Timing.unsteady(new double[] {10, 20, 15}));
        assertTrue(BenchCommand.Timing.unsteady(new double[] {10, 20.5, 15}));
        assertTrue(BenchCommand.Timing.unsteady(new double[] {100, 100, 0.5, 100}));
    }

    @Test
    void aMeasurementWhoseWindowsDisagreeWarns() {
        // an op that slows down 20x half a second after its first call: the first window is fast, the second slow
        // (sleeps only lengthen under load, so the rates stay far more than 2x apart)
        BenchCommand.Timing t = new BenchCommand.Timing();
        t.warmup = 0;
        t.seconds = 1;
        t.pool.threads = 1;
        long[] start = {0};
        Runnable op = () -> {
            if (start[0] == 0) {
                start[0] = System.nanoTime();
            }
            sleepMillis(System.nanoTime() - start[0] < 500_000_000L ? 1 : 20);
        };
        assertEquals(BenchCommand.Timing.UNSTEADY, stdoutOf(() -> t.callsPerSecond(op)).strip());
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
