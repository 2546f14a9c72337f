/**
 * An OpenAI-compatible HTTP server over one model ({@code ./interlayer serve}): chat and text completions
 * (streamed as server-sent events or whole), embeddings, model list and health, on the JDK's
 * {@code com.sun.net.httpserver}. A {@link dev.interlayer.models.serve.Scheduler} runs up to N generations at
 * once, each in its own session and KV cache, advancing them together one token per
 * {@link dev.interlayer.models.serve.DecodeStep}; waiting requests sit in a bounded queue.
 */
package dev.interlayer.models.serve;
