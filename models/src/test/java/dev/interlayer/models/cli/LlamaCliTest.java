package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** generate / logits / inspect / tokenize through Main's command line, on stories260K. */
class LlamaCliTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static String stories() {
        return SharedModels.require("stories260K/stories260K.gguf").toString();
    }

    @Test
    void logitsJson() {
        Run r = run("logits", "--model", stories(), "--tokens", "1,403,407,261,378", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("[1,403,407,261,378]", o.getAsJsonArray("tokens").toString());
        JsonArray rows = o.getAsJsonArray("logits");
        assertEquals(5, rows.size());
        JsonArray last = rows.get(4).getAsJsonArray();
        assertEquals(512, last.size());
        assertEquals(17.7994, last.get(432).getAsDouble(), 1e-3);   // llama.cpp's value (task brief)
        assertTrue(r.out().startsWith("{\"tokens\":[1,403,407,261,378], \"logits\":[["), r.out().substring(0, 60));
    }

    @Test
    void generateGreedyFromTokens() throws java.io.IOException {
        Run r = run("generate", "--model", stories(), "--tokens", "1,403,407,261,378", "--temperature", "0",
                "--max-tokens", "8", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        String expected;
        try (var f = dev.interlayer.models.io.Gguf.open(java.nio.file.Path.of(stories()))) {
            // the first 8 llama.cpp greedy tokens (task brief), decoded
            expected = dev.interlayer.models.tokenizer.Tokenizers.fromGguf(f)
                    .decode(new int[] {432, 383, 286, 261, 376, 298, 315, 421});
        }
        assertEquals(expected + System.lineSeparator(), r.out());
        assertTrue(r.err().contains("tok/s"), r.err());
    }

    @Test
    void generateFromPromptEchoesPrompt() {
        Run r = run("generate", "--model", stories(), "--prompt", "Once upon a time", "--max-tokens", "4",
                "--seed", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Once upon a time"), r.out());
    }

    @Test
    void tokenizeJson() {
        Run r = run("tokenize", "--model", stories(), "--text", "Once upon a time", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"tokens\":[1,403,407,261,378]}", r.out().strip());
    }

    @Test
    void inspectSummarises() {
        Run r = run("inspect", "--model", stories());
        assertEquals(0, r.code(), r.err());
        for (String s : new String[] {"architecture: llama", "dim 64", "kv heads 4", "token_embd.weight",
                "[512, 64]", "parameters: 292,800", "tokenizer: llama", "512 tokens"}) {
            assertTrue(r.out().contains(s), "missing '" + s + "' in\n" + r.out());
        }
    }

    @Test
    void errorsAreOneLineWithNonZeroExit() {
        Run r = run("logits", "--model", "/nonexistent/x.gguf", "--tokens", "1");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        Run bad = run("logits", "--model", stories(), "--tokens", "1,9999", "--json");
        assertEquals(Main.EXIT_USAGE, bad.code());
        assertTrue(bad.err().contains("9999"), bad.err());
    }
}
