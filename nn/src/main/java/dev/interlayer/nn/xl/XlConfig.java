package dev.interlayer.nn.xl;

/**
 * Transformer-XL options (the paper's {@code mem_len}, {@code clamp_len}, {@code same_length}, {@code pre_lnorm}).
 *
 * @param memLen     rows of each layer's input kept for the next segment (0 = no recurrence: plain relative attention)
 * @param clampLen   distances above it use the encoding of clampLen (≤ 0 = off)
 * @param sameLength every query sees at most memLen + 1 … the same number of keys: key j is also masked when
 *                   j ≤ i − (T − (M + T − memLen)) (the reference's tril mask)
 * @param preNorm    Pre-LN blocks (x + Attn(LN(x)), LN applied to the memory too) instead of the default Post-LN
 *                   (LN(x + Attn(x)))
 */
public record XlConfig(int memLen, int clampLen, boolean sameLength, boolean preNorm) {
    /** @throws IllegalArgumentException for a negative memory length */
    public XlConfig {
        if (memLen < 0) {
            throw new IllegalArgumentException("Transformer-XL memLen must be >= 0, got " + memLen);
        }
    }
}
