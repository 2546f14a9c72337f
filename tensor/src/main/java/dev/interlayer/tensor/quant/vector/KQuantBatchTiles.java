package dev.interlayer.tensor.quant.vector;

/**
 * Batched-decode (1 &lt; m ≤ 16) tiles of Q4_K and Q6_K weights read in place, in the shape of
 * {@link Block32BatchTiles}: two weight rows times four activation rows (or four times two), each weight
 * vector dequantized once in registers exactly as {@link Q4KTiles} / {@link Q6KTiles} do for m = 1 (the same scale products, decoded per
 * super-block into {@code s[8·VL ..]} by their {@code scales}) and folded into four accumulators; every output is
 * the {@link TileDriver} sequence, bit for bit the one-row result.
 *
 * <p>Q6_K has no four-weight-row tile: decoding four rows' 6-bit codes exceeded C2's inlining budget and compiled
 * into boxing code (16 MB per 2048x8192 product at m = 2, as Q6_K's four-row decode tile did, see
 * {@link TileDriver}); its last one or two activation rows run the two-row tile with repeated rows.
 *
 * <p>The tiles {@link #q4KW2X4}, {@link #q6KW2X4} and {@link #q4KW4X2} are generated at build time from
 * {@code tensor/src/main/codegen/templates/KQuantBatchTilesUnrolled.java.template} by
 * {@code tensor/src/main/codegen/Unroll.java} into the superclass {@code KQuantBatchTilesUnrolled}.
 */
final class KQuantBatchTiles extends KQuantBatchTilesUnrolled {
    private KQuantBatchTiles() {
    }
}
