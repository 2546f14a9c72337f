package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.Fixture;
import java.io.IOException;
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
        JsonObject ref = reference();
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

    /**
     * The same rule read from a tokenizer.json's {@code added_tokens} flags: Phi-3's tokenizer.json built as the
     * reference script builds it (llama-spm legacy layout from the GGUF's first 32011 pieces; every control,
     * unknown or user-defined piece starting with "<" is a special added token with rstrip, except
     * {@code <unk>}, {@code <s>}, {@code <|endoftext|>}) must give Hugging Face's ids.
     */
    @Test
    void tokenizerJsonRstripFlagsMatchHuggingFace() throws IOException {
        int hfVocab = 32011;
        String[] texts = new String[hfVocab];
        float[] scores = new float[hfVocab];
        int[] types = new int[hfVocab];
        try (GgufFile g = Gguf.open(SharedModels.require("tokenizers/ggml-vocab-phi-3.gguf"))) {
            Object tok = g.metadata().get("tokenizer.ggml.tokens"), sc = g.metadata().get("tokenizer.ggml.scores");
            Object ty = g.metadata().get("tokenizer.ggml.token_type");
            for (int i = 0; i < hfVocab; i++) {
                texts[i] = (String) element(tok, i);
                scores[i] = ((Number) element(sc, i)).floatValue();
                types[i] = ((Number) element(ty, i)).intValue();
            }
        }
        JsonObject root = JsonParser.parseString(LlamaTokenizerJson.json(new LlamaTokenizerJson.Pieces(texts, scores),
                LlamaTokenizerJson.Layout.LEGACY)).getAsJsonObject();
        JsonArray added = new JsonArray();
        JsonArray rstrip = new JsonArray();
        for (int i = 0; i < hfVocab; i++) {
            if (types[i] >= 2 && types[i] <= 4 && texts[i].startsWith("<")) {
                boolean r = !java.util.Set.of("<unk>", "<s>", "<|endoftext|>").contains(texts[i]);
                added.add(LlamaTokenizerJson.specialToken(i, texts[i], r));
                if (r) {
                    rstrip.add(texts[i]);
                }
            }
        }
        root.add("added_tokens", added);
        root.add("post_processor", null);
        JsonObject ref = reference();
        assertEquals(ref.getAsJsonArray("rstrip"), rstrip, "the reference's rstrip tokens");
        Tokenizer t = Tokenizers.fromHuggingFace(new java.io.ByteArrayInputStream(
                root.toString().getBytes(StandardCharsets.UTF_8)), "phi-3 tokenizer.json");
        int n = 0;
        for (JsonElement e : ref.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            String text = c.get("text").getAsString();
            int[] want = c.getAsJsonArray("ids").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
            assertArrayEquals(want, t.encode(text, false, true), "tokenizer.json: " + VocabVectors.escape(text));
            n++;
        }
        assertEquals(11, n);
    }

    private static JsonObject reference() throws IOException {
        return Fixture.json("/golden/tokenizer/phi3_rstrip.json");
    }

    private static Object element(Object array, int i) {
        return array instanceof java.util.List<?> l ? l.get(i) : java.lang.reflect.Array.get(array, i);
    }
}
