/**
 * LangChain4j adapters (optional dependency {@code dev.langchain4j:langchain4j-core}): an
 * {@code EmbeddingModel} over {@link dev.interlayer.models.embed.EmbeddingModel}, and a
 * {@code ChatModel} / {@code StreamingChatModel} pair over {@link dev.interlayer.models.generate.Generator},
 * configured by one {@link dev.interlayer.models.langchain4j.InterlayerChat}.
 *
 * <p>Every chat call runs its own generation session (its own KV cache), so conversations never share
 * state and one model serves concurrent calls. Chat messages become one prompt string through a pluggable
 * {@code Function<List<ChatMessage>, String>}; {@link dev.interlayer.models.langchain4j.ChatPrompts#plain()}
 * is the default until a model's own chat template is plugged in.
 */
package dev.interlayer.models.langchain4j;
