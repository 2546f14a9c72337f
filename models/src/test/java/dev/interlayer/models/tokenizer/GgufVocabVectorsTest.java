package dev.interlayer.models.tokenizer;


import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp's tokenizer vectors (expected ids produced by each model's Hugging Face tokenizer) against
 * our tokenizers built from the vocab-only GGUF files. Encoded without BOS/EOS and without parsing
 * special-token text, as llama.cpp's test-tokenizer-0 does. Every pair must match.
 */
class GgufVocabVectorsTest {

    static Tokenizer load(String vocab) throws IOException {
        Path p = SharedModels.require("tokenizers/ggml-vocab-" + vocab + ".gguf");
        try (GgufFile g = Gguf.open(p)) {
            return Tokenizers.fromGguf(g);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "bert-bge", "deepseek-coder", "deepseek-llm", "falcon",
            "starcoder", "mpt", "refact"})
    void allPairsMatch(String vocab) throws IOException {
        Tokenizer t = load(vocab);
        VocabVectors.load(SharedModels.require("tokenizers/ggml-vocab-" + vocab + ".gguf")).assertAllPass(vocab, t);
    }
}
