package dev.interlayer.tensor.simd;

/**
 * The weight-stream register tile, for kernels outside this package that use its layout (the quantized prefill):
 * {@link #ROWS} weight rows, each kc floats apart in a buffer, times a panel of {@link #TOKENS} packed tokens
 * ({@link ActivationPanels#pack} with width {@link #TOKENS}), accumulated in 24 vector registers and stored
 * transposed into C. The same micro-kernel and store as {@link GemmWeightStream}'s, so both paths compute and round
 * alike.
 */
public final class RegisterTile {
    /** Weight rows per tile. */
    public static final int ROWS = GemmWeightStream.MR;
    /** Tokens per tile (two vectors). */
    public static final int TOKENS = GemmWeightStream.NR;
    /** Length of a tile buffer (room for the store's masked gathers). */
    public static final int SIZE = GemmWeightStream.TILE;

    private RegisterTile() {
    }

    /**
     * tile[r·TOKENS + t] = Σ_p w[r·kc + p]·xp[xi + p·TOKENS + t] for r &lt; ROWS, t &lt; TOKENS (p in order, one
     * fused multiply-add per step).
     */
    public static void multiply(int kc, float[] w, float[] xp, int xi, float[] tile) {
        GemmWeightStream.micro(kc, w, xp, xi, tile);
    }

    /** C[t, r] (=, or += when accumulate) tile[r·TOKENS + t] for r &lt; rows, t &lt; tokens; C[t, r] at c[ci + t·ldc + r]. */
    public static void store(float[] tile, int rows, int tokens, float[] c, int ci, int ldc, boolean accumulate) {
        GemmWeightStream.store(tile, TOKENS, rows, tokens, c, ci, ldc, accumulate);
    }
}
