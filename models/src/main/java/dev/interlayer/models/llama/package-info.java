/**
 * Llama-family decoders (Llama 1/2/3, Mistral, Qwen2, and the mixture-of-experts Mixtral and Qwen2-MoE, whose
 * layers may mix dense and sparse FFNs; optional sliding-window attention): the config record with its GGUF and
 * HF {@code config.json} mappings, the tensor-name tables of both formats, and a thin model class that builds an
 * {@code nn} decoder stack from them. The forward pass is {@code nn}'s, shared with every other family.
 */
package dev.interlayer.models.llama;
