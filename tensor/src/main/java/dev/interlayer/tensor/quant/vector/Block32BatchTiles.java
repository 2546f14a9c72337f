package dev.interlayer.tensor.quant.vector;

/**
 * Batched-decode (1 &lt; m ≤ 16) tiles of Q8_0 and Q4_0 weights read in place: two weight rows (bytes o0, o1)
 * times four activation rows (x offsets x0..x3), or four weight rows times two activation rows for the last one
 * or two; eight accumulators either way. Each weight vector is dequantized once in
 * registers, exactly as {@link Block32Tiles} does it for m = 1, and folded into the four activation rows'
 * accumulators; so every output is the {@link TileDriver} sequence ({@code acc = fma(w, x, acc)} a vector at a
 * time in element order from zero, then {@link QSpecies#hsum}), bit for bit the one-row result. The driver
 * ({@link BatchDriver}) passes a repeated offset for a missing row (an odd weight row, fewer than four
 * activation rows left) and keeps only the outputs that exist.
 *
 * <p>Vector API calls are written out (see {@link Block32Tiles}).
 *
 * <p>The tiles {@link #q8_0W2X4}, {@link #q4_0W2X4}, {@link #q8_0W4X2} and {@link #q4_0W4X2} are generated at
 * build time from {@code tensor/src/main/codegen/templates/Block32BatchTilesUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code Block32BatchTilesUnrolled}.
 */
final class Block32BatchTiles extends Block32BatchTilesUnrolled {
    private Block32BatchTiles() {
    }
}
