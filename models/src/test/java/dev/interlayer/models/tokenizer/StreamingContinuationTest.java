package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A streaming decoder primed with a prompt renders what follows as the tail of the whole text, for every
 * tokenizer kind: for every split of a text's ids into context + continuation, decode(context) + streamed
 * continuation = decode(all). An unprimed decoder treats the first continuation token as the start of a
 * text and drops its space (SentencePiece "▁was", WordPiece "was" after a word, byte-level BPE with
 * add_prefix_space), which is what every kind below checks against.
 */
class StreamingContinuationTest {
    private static final String TEXT = "The dog was a big red ball and the cat sat on it";

    @Test
    void sentencePieceBpe() throws IOException {
        check("SentencePiece BPE", HfSpmTokenizerReferenceTest.load("spm_bpe/spm_bpe_legacy"), TEXT);
        check("SentencePiece BPE (Metaspace first)", HfSpmTokenizerReferenceTest.load("spm_bpe/spm_bpe_ms_first"), TEXT);
    }

    @Test
    void sentencePieceFromGguf() throws IOException {
        check("llama-spm GGUF", GgufVocabVectorsTest.load("llama-spm"), TEXT + " 🦙 émoji");
    }

    @Test
    void unigram() throws IOException {
        check("Unigram", HfSpmTokenizerReferenceTest.load("unigram/uni_always"), TEXT);
        check("Unigram (byte fallback)", HfSpmTokenizerReferenceTest.load("unigram/uni_bytes"), TEXT + " é");
    }

    @Test
    void wordPiece() throws IOException {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            check("WordPiece (MiniLM)", Tokenizers.fromHuggingFace(in, "all-minilm-l6-v2-tokenizer.json"),
                    TEXT.toLowerCase(java.util.Locale.ROOT));
        }
    }

    @Test
    void byteLevelBpe() throws IOException {
        String json = Files.readString(SharedModels.require("hf-tiny-random/fake_gpt2/tokenizer.json"));
        check("byte-level BPE", Tokenizers.fromHuggingFace(stream(json), "fake_gpt2"), TEXT);
        // add_prefix_space: the decoder strips the first space of a text, so only priming keeps it mid-text
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        o.getAsJsonObject("pre_tokenizer").addProperty("add_prefix_space", true);
        check("byte-level BPE (add_prefix_space)", Tokenizers.fromHuggingFace(stream(o.toString()), "fake_gpt2+aps"),
                TEXT);
    }

    @Test
    void contextEndingInsideACharacterIsCompletedByTheFirstToken() throws IOException {
        Tokenizer t = GgufVocabVectorsTest.load("llama-spm");
        int[] ids = t.encode("a🦙", false, false);         // ▁a, then four byte tokens
        StreamingDecoder d = t.streamingDecoder(Arrays.copyOf(ids, 3));
        assertEquals("", d.next(ids[3]));
        assertEquals("🦙", d.next(ids[4]));
    }

    private static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void check(String kind, Tokenizer t, String text) {
        int[] ids = t.encode(text, true, false);
        String whole = t.decode(ids);
        int checked = 0;
        for (int k = 1; k < ids.length; k++) {
            String head = t.decode(Arrays.copyOf(ids, k));
            if (head.contains("\uFFFD")) {
                continue;       // split inside a character: covered by the test above
            }
            StreamingDecoder d = t.streamingDecoder(Arrays.copyOf(ids, k));
            StringBuilder tail = new StringBuilder();
            for (int j = k; j < ids.length; j++) {
                tail.append(d.next(ids[j]));
            }
            tail.append(d.flush());
            assertEquals(whole, head + tail, kind + ": context of " + k + " ids " + Arrays.toString(ids));
            checked++;
        }
        assertTrue(checked >= 10, kind + ": only " + checked + " splits checked");
        // the case of the issue: the token after "The dog" starts with a space
        int[] dog = t.encode(text.substring(0, 7), true, false);
        int[] rest = Arrays.copyOfRange(ids, dog.length, ids.length);
        StreamingDecoder d = t.streamingDecoder(dog);
        assertTrue(d.next(rest[0]).startsWith(" "), kind + ": first token after the prompt lost its space");
    }
}
