/**
 * BERT encoders (post-LN LayerNorm blocks, GELU, learned positions and token types): the config parsers
 * (Hugging Face config.json, GGUF metadata, ONNX graph constants) and the tensor names of each format, mapped
 * onto {@link dev.interlayer.nn.EncoderStack}, which computes the hidden states.
 */
package dev.interlayer.models.bert;
