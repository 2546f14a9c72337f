/**
 * Tokenizers: text to token ids and back. {@link dev.interlayer.models.tokenizer.Tokenizer} is the
 * contract; implementations are WordPiece (BERT), SentencePiece-style BPE (GGUF {@code llama}) and
 * byte-level BPE (GPT-2 family). {@link dev.interlayer.models.tokenizer.Tokenizers} builds one from a
 * Hugging Face {@code tokenizer.json} or from GGUF metadata.
 */
package dev.interlayer.models.tokenizer;
