package dev.interlayer.models.embed;

/** How token states become one sentence vector (before L2 normalisation). */
public enum Pooling {
    /** Mean of the last hidden states over the valid tokens, [CLS] and [SEP] included (sentence-transformers' default). */
    MEAN,
    /** The last hidden state of the first token, [CLS]. */
    CLS;

    /**
     * The pooling named by llama.cpp's {@code <arch>.pooling_type} (enum llama_pooling_type): 1 = MEAN,
     * 2 = CLS.
     *
     * @throws IllegalArgumentException for 0 (NONE), 3 (LAST), 4 (RANK) or an unknown value, which give no
     *                                  sentence vector this class computes
     */
    public static Pooling fromGgufType(int type) {
        return switch (type) {
            case 1 -> MEAN;
            case 2 -> CLS;
            default -> throw new IllegalArgumentException("pooling_type " + type + " not supported (1 = mean, 2 = cls;"
                    + " 0 none, 3 last, 4 rank are not sentence poolings here)");
        };
    }
}
