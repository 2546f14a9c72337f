package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quantize --method} on a BERT GGUF encoder and {@code eval} of the result, through Main's command line. */
class EncoderQuantizeCommandTest {
    @TempDir
    Path dir;

    @Test
    void gptqEncoderQuantizesAndEvaluatesAgainstItsFloatModel() throws Exception {
        String bert = SharedModels.require("synthetic/synth-bert-f32.gguf").toString();
        Path text = dir.resolve("c.txt");
        Files.writeString(text, String.join("\n", "The cat sat on the mat.", "A quick brown fox jumps over the lazy dog.",
                "Quantized weights should keep the embeddings close.", "Where is the nearest train station?",
                "The committee approved the new budget yesterday.", "I like apples and oranges.",
                "Rain is expected in the mountains tonight.", "She wrote a long letter to her brother."));
        Path out = dir.resolve("q8.gguf");
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", bert, "--method", "gptq", "--bits", "8",
                "--calibration", text.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Q8_0") && r.out().contains("calibration 8 texts"), r.out());
        assertTrue(r.out().contains("blk.1.ffn_down.weight"), r.out());
        EmbedCommandTest.Run e = EmbedCommandTest.run("eval", "--model", out.toString(), "--reference", bert, "--text",
                text.toString());
        assertEquals(0, e.code(), e.err());
        Matcher m = Pattern.compile("cosine min ([0-9.]+)").matcher(e.out());
        assertTrue(m.find(), e.out());
        double min = Double.parseDouble(m.group(1));
        assertTrue(min >= 0.99 && min < 1, e.out());    // 8-bit weights: changed, and close
        EmbedCommandTest.Run bad = EmbedCommandTest.run("quantize", "--model", bert, "--method", "mixed",
                "--target-kld", "0.1", "--calibration", text.toString(), "--out", dir.resolve("m.gguf").toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("for an encoder"), bad.err());
    }
}
