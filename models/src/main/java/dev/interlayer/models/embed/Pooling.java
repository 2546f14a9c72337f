package dev.interlayer.models.embed;

/** How token states become one sentence vector (before L2 normalisation). */
public enum Pooling {
    /** Mean of the last hidden states over the valid tokens, [CLS] and [SEP] included (sentence-transformers' default). */
    MEAN,
    /** The last hidden state of the first token, [CLS]. */
    CLS
}
