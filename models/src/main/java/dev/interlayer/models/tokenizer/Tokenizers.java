package dev.interlayer.models.tokenizer;

import dev.interlayer.models.io.GgufFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds a {@link Tokenizer} from a model's files: a Hugging Face {@code tokenizer.json}, or the
 * {@code tokenizer.ggml.*} metadata of a GGUF file.
 */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * Tokenizer described by a Hugging Face {@code tokenizer.json}: WordPiece (BERT), byte-level BPE (GPT-2,
     * Llama 3, Qwen), SentencePiece-style BPE with byte fallback (Llama 2, Mistral; both the legacy
     * Prepend/Replace normalizer and the Metaspace pre-tokenizer layout) or SentencePiece Unigram with the same
     * space handling, including T5/ALBERT/XLM-R's {@code Precompiled} normalizer and {@code WhitespaceSplit}
     * pre-tokenizer. A sibling {@code tokenizer_config.json} supplies
     * {@code model_max_length} and, for the SentencePiece kinds, {@code add_bos_token}/{@code add_eos_token}.
     *
     * @throws dev.interlayer.models.io.ModelFormatException if the JSON is invalid or uses an unsupported model,
     *                                                       normalizer, pre-tokenizer or post-processor
     */
    public static Tokenizer fromHuggingFace(Path tokenizerJson) throws IOException {
        return HfTokenizerJson.load(tokenizerJson);
    }

    /** As {@link #fromHuggingFace(Path)}, reading the JSON from {@code in} (closed afterwards); {@code name} is for messages. */
    public static Tokenizer fromHuggingFace(InputStream in, String name) throws IOException {
        return HfTokenizerJson.load(in, name);
    }

    /**
     * Tokenizer described by GGUF metadata ({@code tokenizer.ggml.model} = {@code llama}, {@code gpt2} or
     * {@code bert}, with tokens, scores, token types, merges, special ids and add-BOS/EOS flags).
     *
     * @param metadata the GGUF key/value metadata (arrays as {@code List} or Java arrays)
     * @throws IllegalArgumentException if a required key is missing or has the wrong type
     */
    public static Tokenizer fromGguf(Map<String, Object> metadata) {
        return GgufTokenizerLoader.load(metadata);
    }

    /** Tokenizer from the metadata of an open GGUF file (see {@link #fromGguf(Map)}). */
    public static Tokenizer fromGguf(GgufFile gguf) {
        try {
            return GgufTokenizerLoader.load(gguf.metadata());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(gguf.path().getFileName() + ": " + e.getMessage(), e);
        }
    }
}
