/**
 * Chat prompts: a model's own Jinja chat template (GGUF {@code tokenizer.chat_template}, Hugging Face
 * {@code tokenizer_config.json} {@code chat_template}) rendered with jinjava in the environment Hugging Face's
 * {@code apply_chat_template} provides, and a documented plain format for models without one.
 * Needs the optional {@code com.hubspot.jinjava:jinjava} dependency.
 */
package dev.interlayer.models.chat;
