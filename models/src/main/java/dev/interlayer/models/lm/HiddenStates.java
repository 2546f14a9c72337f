package dev.interlayer.models.lm;

/**
 * A model that maps a token sequence to its last hidden state per position: after the final norm for
 * decoders (Hugging Face {@code last_hidden_state}), the last encoder layer's output for encoders.
 * Inputs are one sequence with a full attention mask and token types 0.
 */
public interface HiddenStates {

    /** Width d of one hidden state. */
    int hiddenSize();

    /**
     * Hidden states of every position of {@code tokens}, computed from an empty context.
     *
     * <p>Shapes: result [T, d] row-major, T = tokens.length.
     *
     * @throws IllegalArgumentException for an empty input, an out-of-range id or a too long sequence
     */
    float[] hiddenStates(int[] tokens);
}
