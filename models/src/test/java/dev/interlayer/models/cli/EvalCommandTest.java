package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./interlayer eval} through Main's command line. */
class EvalCommandTest {
    @TempDir
    Path dir;

    @Test
    void causalLmAgainstItself() throws Exception {
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "Once upon a time, there was a little girl named Lily. She liked to play outside in"
                + " the park with her dog. One day, she saw a big red ball under a tree.");
        String stories = SharedModels.require("stories260K/stories260K.gguf").toString();
        EmbedCommandTest.Run r = EmbedCommandTest.run("eval", "--model", stories, "--text", text.toString(),
                "--reference", stories, "--ctx", "16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("KLD mean 0.000000"), r.out());
        assertTrue(r.out().contains("top-1 agreement 100.00%"), r.out());
        assertTrue(r.out().matches("(?s).*perplexity \\d+\\.\\d{4}.*"), r.out());
    }

    @Test
    void encoderWithoutReferenceIsAClearError() throws Exception {
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "one\ntwo\n");
        String bert = SharedModels.require("hf-tiny-random/bert_tiniest").toString();
        EmbedCommandTest.Run r = EmbedCommandTest.run("eval", "--model", bert, "--text", text.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("is an encoder") && r.err().contains("--reference"), r.err());
        r = EmbedCommandTest.run("eval", "--model", bert, "--text", text.toString(), "--reference", bert);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cosine min 1.000000"), r.out());
    }
}
