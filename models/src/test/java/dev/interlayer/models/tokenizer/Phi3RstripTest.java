package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Phi-3's special tokens swallow the whitespace after them ({@code </s>}, {@code <|user|>}, {@code <|end|>}...;
 * not {@code <s>}, {@code <unk>}, {@code <|endoftext|>}). llama.cpp's Phi-3 GGUF vocabulary must tokenize
 * chat-formatted text as Hugging Face's Rust tokenizers does with Phi-3's tokenizer.json flags
 * (reference/tokenizer/phi3_rstrip_reference.py).
 */
class Phi3RstripTest {
    @Test
    void ggufPhi3MatchesHuggingFaceWithRstrip() throws IOException {
        Tokenizer t = GgufVocabVectorsTest.load("phi-3");
        JsonObject ref;
        try (InputStream in = getClass().getResourceAsStream("/golden/tokenizer/phi3_rstrip.json")) {
            ref = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
        int n = 0;
        for (JsonElement e : ref.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            String text = c.get("text").getAsString();
            int[] want = c.getAsJsonArray("ids").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
            assertArrayEquals(want, t.encode(text, false, true), VocabVectors.escape(text));
            n++;
        }
        assertEquals(11, n);
    }
}
