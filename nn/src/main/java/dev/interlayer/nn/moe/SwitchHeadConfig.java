package dev.interlayer.nn.moe;

/**
 * Hyperparameters of SwitchHead attention (Csordás et al. 2024, "SwitchHead: Accelerating Transformers with
 * Mixture-of-Experts Attention"; the attention of MoEUT).
 *
 * @param hidden         model width d
 * @param heads          H
 * @param headDim        dh
 * @param numExperts     value/output experts per head n_e (1 = dense v/o projections with a sigmoid output gate per head)
 * @param topK           experts selected per head and token (att_k; 1 ≤ k ≤ n_e)
 * @param rotateFraction fraction of dh rotated by RoPE (MoEUT: 0.5), rounded down to an even width
 * @param ropeTheta      RoPE base
 * @param contextLength  maximum positions kept in a session's key/value store
 */
public record SwitchHeadConfig(int hidden, int heads, int headDim, int numExperts, int topK, double rotateFraction,
                               double ropeTheta, int contextLength) {
    /** @throws IllegalArgumentException naming the first out-of-range value */
    public SwitchHeadConfig {
        if (hidden < 1 || heads < 1 || headDim < 2 || contextLength < 1) {
            throw new IllegalArgumentException("SwitchHeadConfig: hidden, heads, contextLength >= 1 and headDim >= 2 "
                    + "required, got " + hidden + ", " + heads + ", " + contextLength + ", " + headDim);
        }
        if (numExperts < 1 || topK < 1 || topK > numExperts) {
            throw new IllegalArgumentException("SwitchHeadConfig: topK " + topK + " must be in [1, numExperts="
                    + numExperts + "]");
        }
        if (!(rotateFraction > 0 && rotateFraction <= 1) || rotaryDim(headDim, rotateFraction) < 2) {
            throw new IllegalArgumentException("SwitchHeadConfig: rotateFraction must rotate at least 2 of " + headDim
                    + " dims, got " + rotateFraction);
        }
    }

    private static int rotaryDim(int headDim, double fraction) {
        return (int) (headDim * fraction) / 2 * 2;
    }

    /** Rotated width: floor(dh·rotateFraction) rounded down to even. */
    public int rotaryDim() {
        return rotaryDim(headDim, rotateFraction);
    }

    /** H·dh. */
    public int qDim() {
        return heads * headDim;
    }
}
