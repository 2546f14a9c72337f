package dev.interlayer.models.lm;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.tensor.Tensor;
import java.util.Objects;

/**
 * A {@link DecoderLM} of one model family that keeps the config record it was built from (GemmaConfig,
 * Olmo2Config, …): the computation is the decoder stack's, the config only says which hyperparameters made it.
 *
 * @param <C> the family's config record
 */
public abstract class ConfiguredDecoder<C> extends DecoderLM {
    private final C config;

    /**
     * A causal LM as {@link DecoderLM#DecoderLM(DecoderStack, Tensor, float, int)}, built from {@code config}.
     *
     * @param config        the family's hyperparameters
     * @param stack         the decoder stack (its final norm gives the hidden state)
     * @param head          LM head [vocab, d]
     * @param finalSoftcap  final-logit soft-cap c, 0 for none
     * @param contextLength the trained context (capped by the stack's own limit)
     */
    protected ConfiguredDecoder(C config, DecoderStack stack, Tensor head, float finalSoftcap, int contextLength) {
        super(stack, head, finalSoftcap, contextLength);
        this.config = Objects.requireNonNull(config, "config");
    }

    /** The hyperparameters. */
    public C config() {
        return config;
    }
}
