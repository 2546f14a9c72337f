/** GPT-2 decoder: learned positions, pre-LN LayerNorms with bias, GELU-tanh MLP, tied head; HF and GGUF. */
package dev.interlayer.models.gpt2;
