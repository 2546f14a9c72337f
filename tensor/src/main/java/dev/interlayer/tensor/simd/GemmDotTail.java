package dev.interlayer.tensor.simd;

/**
 * The last few activation rows of a {@link GemmWeightStream} block in dot-product form:
 * tile[r*ld + t] = Σ_p wb[r*kc + p]·A[t, p] for the 12 widened weight rows r and t &lt; tokens, with vectors
 * along k instead of along the tokens.
 *
 * <p>Why: the weight-stream micro-kernel puts tokens in vector lanes, two vectors at a time, so 33 rows cost
 * as much as 64 (the second panel is zero padding). A mixture-of-experts layer gives each expert about
 * T·k/E rows (32 for 256 tokens, top-8 of 64), so that padding was a large part of its prefill arithmetic.
 * Here the cost follows the rows: per VL k steps two activation rows and 12 weight rows are loaded and 24
 * FMAs done (as many useful products per FMA as the panel kernel), then each accumulator is summed across
 * lanes once per row pair. The weight rows are re-read from cache for every pair, which is why only tails
 * up to {@link #MAX_TOKENS} rows come here.
 *
 * <p>Overridable for tuning with {@code dev.interlayer.gemm.ws.tail} (0 = always pad).
 *
 * <p>The written-out row-pair kernel {@link #pair} is generated at build time from
 * {@code tensor/src/main/codegen/templates/GemmDotTailUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code GemmDotTailUnrolled}.
 */
final class GemmDotTail extends GemmDotTailUnrolled {
    /** Most trailing rows taken in dot-product form. */
    static final int MAX_TOKENS = Math.max(0, Math.min(GemmWeightStream.NR - 1,
            Integer.getInteger("dev.interlayer.gemm.ws.tail", 12)));

    private GemmDotTail() {
    }

    /**
     * tile[r*ld + t] = Σ_{p &lt; kc} wb[r*kc + p]·a[a0 + t*lda + p] for r &lt; 12 and t &lt; tokens; the other
     * tile entries are left as they were.
     */
    static void tile(int kc, float[] wb, float[] a, int a0, int lda, int tokens, float[] tile, int ld) {
        for (int t = 0; t < tokens; t += 2) {
            pair(kc, wb, a, a0 + t * lda, a0 + Math.min(t + 1, tokens - 1) * lda, t, t + 1 < tokens, tile, ld);
        }
    }

    // Σ_{q in [p, kc)} wb[w + q]·a[x + q]: the k steps past the last whole vector.
    static float rest(float[] wb, int w, float[] a, int x, int p, int kc) {
        float s = 0f;
        for (int q = p; q < kc; q++) {
            s += wb[w + q] * a[x + q];
        }
        return s;
    }
}
