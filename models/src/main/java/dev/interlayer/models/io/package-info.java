/**
 * Model file readers that map a file once and hand out tensor views: GGUF, safetensors (and Hugging Face
 * folders of them), ONNX initializers; the {@code WeightSource} interface they share and
 * {@code ModelFormatException} for corrupt or unsupported files.
 */
package dev.interlayer.models.io;
