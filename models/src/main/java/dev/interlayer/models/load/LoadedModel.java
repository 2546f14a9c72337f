package dev.interlayer.models.load;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.util.Optional;

/**
 * A model opened by {@link ModelLoader} together with the file mapping it reads from. Close it to
 * unmap the weights; the model must not be used afterwards.
 *
 * @param family    family name, as in the {@link dev.interlayer.models.family.Families} registry
 * @param source    the format read: gguf, hf or onnx
 * @param lm        the causal LM, or null for encoders (BERT)
 * @param hidden    last hidden state per position (every family)
 * @param tokenizer the tokenizer found next to the weights, or null if there is none
 * @param resource  the open file(s) backing the weights
 */
public record LoadedModel(String family, String source, CausalLM lm, HiddenStates hidden, Tokenizer tokenizer,
                          AutoCloseable resource) implements AutoCloseable {

    /** The tokenizer, if the model came with one. */
    public Optional<Tokenizer> optionalTokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /**
     * The causal LM.
     *
     * @throws IllegalArgumentException if this model is an encoder
     */
    public CausalLM requireLm() {
        if (lm == null) {
            throw new IllegalArgumentException("model family '" + family + "' is an encoder, not a causal LM");
        }
        return lm;
    }

    @Override
    public void close() {
        try {
            resource.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + family + " model: " + e.getMessage(), e);
        }
    }
}
