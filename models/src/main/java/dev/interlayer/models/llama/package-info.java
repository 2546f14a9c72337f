/**
 * Llama-family decoders (Llama 1/2/3, Mistral, Qwen2, and the mixture-of-experts Mixtral and Qwen2-MoE, whose
 * layers may mix dense and sparse FFNs; optional sliding-window attention with a rolling KV ring): the
 * config record with its GGUF and HF {@code config.json} mappings, and the model whose loader holds the only
 * table of weight names and whose forward pass reads top to bottom in one file.
 */
package dev.interlayer.models.llama;
