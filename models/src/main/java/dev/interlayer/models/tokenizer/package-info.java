/**
 * Tokenizers: text to token ids and back. {@link dev.interlayer.models.tokenizer.Tokenizer} is the
 * contract; implementations are WordPiece (BERT), SentencePiece-style BPE and Unigram
 * ({@link dev.interlayer.models.tokenizer.SpmTokenizer}: GGUF {@code llama}, Llama 2 / Mistral / T5-style
 * tokenizer.json) and byte-level BPE (GPT-2 family). {@link dev.interlayer.models.tokenizer.Tokenizers}
 * builds one from a Hugging Face {@code tokenizer.json} or from GGUF metadata.
 */
package dev.interlayer.models.tokenizer;
