package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Byte-level BPE from GPT-2's tokenizer.json (fake_gpt2 ships GPT-2's real tokenizer). Reference:
 * llama.cpp's gpt-2 vectors, produced by Hugging Face's tokenizer for openai-community/gpt2.
 */
class ByteLevelBpeTokenizerTest {

    static Tokenizer gpt2Json() throws IOException {
        return Tokenizers.fromHuggingFace(SharedModels.require("hf-tiny-random/fake_gpt2/tokenizer.json"));
    }

    @Test
    void gpt2TokenizerJsonMatchesGpt2Vectors() throws IOException {
        Tokenizer t = gpt2Json();
        VocabVectors v = VocabVectors.load(SharedModels.require("tokenizers/ggml-vocab-gpt-2.gguf"));
        int pass = v.countPasses("gpt-2 via tokenizer.json", s -> t.encode(s, false, false));
        assertEquals(v.inputs().size(), pass, "every gpt-2 pair must match");
    }

    @Test
    void endOfTextIsParsedOnlyWhenAsked() throws IOException {
        Tokenizer t = gpt2Json();
        assertEquals(50257, t.vocabSize());
        assertArrayEquals(new int[] {50256}, t.encode("<|endoftext|>", false, true));
        int[] plain = t.encode("<|endoftext|>", false, false);
        assertEquals("<|endoftext|>", t.decode(plain));
        assertEquals(true, plain.length > 1);
        // GPT-2's tokenizer.json adds no BOS/EOS (ByteLevel post-processor).
        assertArrayEquals(t.encode("Hello world", false, false), t.encode("Hello world"));
    }
}
