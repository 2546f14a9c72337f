package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees for bad input: one line naming the file and what is wrong with it, or the flag as typed,
 * exit code 2, before any model is loaded; no raw bytes from a damaged file on the terminal.
 */
class CliErrorsTest {
    @TempDir
    Path dir;

    private static LlamaCliTest.Run run(String... args) {
        return LlamaCliTest.run(args);
    }

    // embed prints to System.out itself, so it runs through EmbedCommandTest's capture
    private static LlamaCliTest.Run embed(String... args) {
        EmbedCommandTest.Run r = EmbedCommandTest.run(args);
        return new LlamaCliTest.Run(r.code(), r.out(), r.err());
    }

    private static void assertUsageError(LlamaCliTest.Run r, String... parts) {
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "expected '" + p + "' in: " + r.err());
        }
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void missingFileSaysNotFound() {
        String nope = dir.resolve("nope.gguf").toString();
        assertUsageError(run("inspect", "--model", nope), nope, "not found");
        assertUsageError(run("tokenize", "--model", nope, "--text", "hi"), nope, "not found");
        assertUsageError(run("generate", "--model", nope, "--prompt", "hi"), nope, "not found");
        assertUsageError(embed("embed", "--model", nope, "hi"), nope, "not found");
        assertUsageError(embed("embed", "--input", nope), nope, "not found");
    }

    @Test
    void directoryWhereAFileIsExpected() {
        assertUsageError(embed("embed", "--input", dir.toString()), "--input", "is a directory");
        assertUsageError(run("tokenize", "--model", dir.toString(), "--text", "hi"), "no tokenizer.json");
    }

    @Test
    void tokenizeOnAFolderUsesItsTokenizerJson() throws IOException {
        try (var in = getClass().getResourceAsStream("/golden/tokenizer/unigram/uni_always.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        Tokenizer t = Tokenizers.fromHuggingFace(dir.resolve("tokenizer.json"));
        LlamaCliTest.Run r = run("tokenize", "--model", dir.toString(), "--text", "Hello world", "--json");
        assertEquals(0, r.code(), r.err());
        StringBuilder want = new StringBuilder("{\"tokens\":[");
        ModelInput.appendIds(want, t.encode("Hello world", true, true));
        assertEquals(want + "]}", r.out().strip());
    }

    @Test
    void flagsAreCheckedBeforeLoadingAndNamedAsTyped() throws IOException {
        // not a model at all: a flag error must come first, without opening it
        String model = Files.writeString(dir.resolve("junk.gguf"), "not a model").toString();
        assertUsageError(run("generate", "--model", model, "--prompt", "hi", "--threads", "100000"), "--threads",
                "100000");
        assertUsageError(run("generate", "--model", model, "--prompt", "hi", "--threads", "0"), "--threads");
        assertUsageError(run("generate", "--model", model, "--prompt", "hi", "--max-tokens", "0"), "--max-tokens");
        assertUsageError(run("generate", "--model", model, "--prompt", "hi", "--top-p", "0"), "--top-p");
        assertUsageError(run("generate", "--model", model, "--prompt", "hi", "--temperature", "-1"), "--temperature");
        assertUsageError(run("logits", "--model", model, "--tokens", "1", "--threads", "100000"), "--threads");
        LlamaCliTest.Run r = run("generate", "--model", model, "--prompt", "hi", "--top-p", "2");
        assertFalse(r.err().contains("topP"), r.err());
    }

    @Test
    void generateStopsWhenItsOutputIsClosed() {
        // `generate ... | head`: once the reader is gone every write fails; generation must end, quietly
        int[] writes = {0};
        java.io.Writer closed = new java.io.Writer() {
            @Override
            public void write(char[] b, int off, int len) throws IOException {
                if (++writes[0] > 2) {
                    throw new IOException("Broken pipe");
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        picocli.CommandLine cl = Main.commandLine();
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setOut(new java.io.PrintWriter(closed));
        cl.setErr(new java.io.PrintWriter(err));
        int code = cl.execute("generate", "--model", LlamaCliTest.stories(), "--prompt", "The dog", "--temperature",
                "0", "--max-tokens", "200", "--threads", "1");
        assertEquals(0, code, err.toString());
        assertTrue(writes[0] <= 4, "kept writing after the pipe closed: " + writes[0] + " writes");
        assertFalse(err.toString().contains("generated: 200 tokens"), err.toString());
    }

    @Test
    void binaryFromADamagedFileIsEscaped() throws IOException {
        // a GGUF whose one key length is too large: the key read runs into the type and value bytes
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(le(4).putInt(3).array());
        b.writeBytes(le(8).putLong(0).array());      // tensors
        b.writeBytes(le(8).putLong(1).array());      // key/value pairs
        b.writeBytes(le(8).putLong(12 | 16).array()); // "general.name" is 12 bytes; one bit flipped
        b.writeBytes("general.name".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(le(4).putInt(8).array());       // type string
        b.writeBytes(le(8).putLong(3).array());
        b.writeBytes(new byte[] {'a', 0x1B, '[', '2', 'J', 7, (byte) 0xFF, 0});
        Path f = Files.write(dir.resolve("flipped.gguf"), b.toByteArray());
        LlamaCliTest.Run r = run("inspect", "--model", f.toString());
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
        String line = r.err().strip();
        assertTrue(line.chars().noneMatch(c -> c < 0x20 || c == 0x7F || c == 0xFFFD), line);
        assertTrue(line.contains("\\x"), "control bytes shown escaped: " + line);
    }

    @Test
    void printableEscapesControlAndUndecodableCharacters() {
        assertEquals("a\\x1B[2Jb\\x00c\\uFFFD\\uD800 é 🦙", Main.printable("a\u001B[2Jb\u0000c\uFFFD\uD800 é 🦙"));
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
