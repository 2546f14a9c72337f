/**
 * BERT encoders (post-LN LayerNorm blocks, GELU, learned positions and token types): config and model,
 * loaded from safetensors or ONNX, producing hidden states for embeddings.
 */
package dev.interlayer.models.bert;
