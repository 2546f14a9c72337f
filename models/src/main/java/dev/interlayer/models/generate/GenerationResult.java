package dev.interlayer.models.generate;

/**
 * Outcome of one {@link Generator#generate} call.
 *
 * @param text            generated text (stop token and stop string excluded)
 * @param promptTokens    tokens in the prompt (including BOS)
 * @param generatedTokens tokens sampled (including a stop token, if one ended generation)
 * @param prefillNanos    time to process the prompt
 * @param decodeNanos     time spent decoding after the prompt
 * @param tokens          the sampled token ids, in order
 * @param stopReason      why generation ended
 */
public record GenerationResult(String text, int promptTokens, int generatedTokens, long prefillNanos,
                               long decodeNanos, int[] tokens, StopReason stopReason) {

    /** Why generation ended. */
    public enum StopReason {
        /** Generated maxTokens tokens. */
        MAX_TOKENS,
        /** Sampled a stop token (EOS or another end-of-generation id). */
        STOP_TOKEN,
        /** The text reached one of the stop strings (it is cut before the stop string). */
        STOP_STRING,
        /** The session's context length is full. */
        CONTEXT_FULL
    }

    /** Decode throughput in tokens per second (0 if no decode time). */
    public double decodeTokensPerSecond() {
        int decoded = Math.max(0, generatedTokens - 1);   // the first token comes from the prefill logits
        return decodeNanos <= 0 ? 0 : decoded * 1e9 / decodeNanos;
    }

    /** Prompt throughput in tokens per second. */
    public double prefillTokensPerSecond() {
        return prefillNanos <= 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    /** A copy of the sampled token ids. */
    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
