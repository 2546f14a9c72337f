package dev.interlayer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
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
        for (String c : new String[] {"gemm", "matvec", "bandwidth", "generate"}) {
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
    }
}
