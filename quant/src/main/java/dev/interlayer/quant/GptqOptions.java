package dev.interlayer.quant;

/**
 * Settings of {@link Gptq} (defaults of the reference implementation, IST-DASLab/gptq: damping 1 %, blocks of
 * 128 columns, no act-order, dynamic groups).
 *
 * @param percDamp     damping {@code λ = percDamp · mean(diag H)} added to the diagonal (and again per failed Cholesky)
 * @param blockSize    columns per lazy-update block; any value gives the same codes up to float reassociation
 * @param actOrder     process columns by decreasing {@code H[j][j]}
 * @param staticGroups fit every group's grid before quantization from the original weights (only with groups)
 */
public record GptqOptions(double percDamp, int blockSize, boolean actOrder, boolean staticGroups) {
    /** The reference defaults. */
    public static final GptqOptions DEFAULT = new GptqOptions(0.01, 128, false, false);

    public GptqOptions {
        if (!(percDamp >= 0) || blockSize < 1) {
            throw new IllegalArgumentException("GptqOptions: need percDamp >= 0 and blockSize >= 1, got "
                    + percDamp + ", " + blockSize);
        }
    }

    /** With act-order on or off. */
    public GptqOptions withActOrder(boolean on) {
        return new GptqOptions(percDamp, blockSize, on, staticGroups);
    }

    /** With static groups on or off. */
    public GptqOptions withStaticGroups(boolean on) {
        return new GptqOptions(percDamp, blockSize, actOrder, on);
    }

    /** With another block size. */
    public GptqOptions withBlockSize(int b) {
        return new GptqOptions(percDamp, b, actOrder, staticGroups);
    }
}
