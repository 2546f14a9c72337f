package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.VL;

import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * The decode (m = 1) path for the formats that carry most weights (Q8_0, Q4_0, Q4_K, Q6_K): runs the tile
 * kernels ({@link Block32Tiles}, {@link Q4KTiles}, {@link Q6KTiles}) over one thread's weight rows
 * {@code [j0, j1)}. The range is cut into four quarters and each tile takes one row from each: four read
 * streams far apart in memory sharing each activation load (as {@code simd.MatVecVector} does for
 * F32/BF16); the 0-3 rows left over run one at a time. Q6_K is cut into halves, two rows per tile (see
 * {@link #q6K}). Q8_0, and Q4_K with {@link #Q4_K_EIGHT}, are cut into eighths, eight rows per tile ({@link Q80Tiles#scaleFar8}): eight read
 * streams kept its decode near the streaming-read rate on rows of k = 2048 (10.0-10.1 against 6.7-7.7 GB/s for
 * four, one thread, weights past the last-level cache; BENCHMARKS.md section 29), where Q8_0's few operations per
 * byte leave the time to how many lines are in flight.
 *
 * <p>Every output, whichever tile computes it and whatever m, is the same sequence of operations: the
 * weight row dequantized exactly as {@link QuantDecode} writes it, VL values at a time in element order,
 * each vector folded into one accumulator by {@code acc = fma(w, x, acc)} from zero, then
 * {@link QSpecies#hsum}; or, for the block-scale tiles of Q4_0 ({@link Q40ScaleTiles}) and Q8_0
 * ({@link Q80Tiles}), their own fixed sequence. The batched-decode tiles ({@link BatchDriver}, 1 &lt; m ≤ 16)
 * run that same sequence per output, so row i of any m-row product is bit for bit the decode of row i.
 *
 * <p>Scratch {@code s}: {@code [0, 4·VL)} reduction lanes ({@code [0, 8·VL)} for Q8_0), then from 4·VL the
 * decoded scales of four Q4_K rows ({@link #scratch}); with {@link #Q4_0_BLOCKSCALE}, Q4_0's block sums of x from
 * 8·VL.
 */
final class TileDriver {
    static final int Q8_0 = 0, Q4_0 = 1, Q4_K = 2, Q6_K = 3;
    /**
     * {@code dev.interlayer.q4_0.blockscale} (default true): Q4_0 decodes with {@link Q40ScaleTiles} (the block
     * scale applied once per block, the −8 offset through per-activation block sums) instead of
     * {@link Block32Tiles}. End to end on the 1B model, under load: single-sequence decode 1.3x per CPU second on
     * one thread, 1.26x on two; batched decode (its tile must compute the same sequence) 0.7-0.8x at m = 4.
     */
    static final boolean Q4_0_BLOCKSCALE =
            Boolean.parseBoolean(System.getProperty("dev.interlayer.q4_0.blockscale", "true"));
    /**
     * {@code dev.interlayer.q4_0.tile}: Q4_0's block-scale decode tile. {@code quads} (default):
     * {@link Q40ScaleTiles#far8Quads}, four rows per compiled group; {@code unrolled}:
     * {@link Q40ScaleTiles#far8Unrolled}, eight rows written out, every vector cast to its exact class, 1.08-1.30x
     * {@code quads} per weight in interleaved pairs (QuantKernelProbe, one thread, weights past the LLC, thread CPU
     * time, issue #12) but not the default: in a model run its C1 compilation failed ("out of virtual registers in
     * linear scan", tier 3) after a tier-2 one, the tiered policy never promoted it to C2, and decode ran the Vector
     * API's Java fallback for minutes. {@code pairs}: {@link Q40ScaleTiles#far8} (or the written-out tile when
     * {@link #COMPACT} is false). The same outputs bit for bit. Any other value is refused, so a misspelt switch
     * cannot silently measure another tile.
     */
    static final int Q4_0_QUADS = 0, Q4_0_UNROLLED = 1, Q4_0_PAIRS = 2;
    static final int Q4_0_TILE = q40Tile(System.getProperty("dev.interlayer.q4_0.tile", "quads"));

    /** The Q4_0 tile named by {@code value} ({@link #Q4_0_TILE}); refuses other names. */
    static int q40Tile(String value) {
        return choice("dev.interlayer.q4_0.tile", value, "quads", "unrolled", "pairs");   // = Q4_0_QUADS, ..
    }

    /**
     * The index of {@code value} among {@code names} (the first is the default) for the switch {@code property};
     * any other value is refused, naming the supported ones, so that a misspelt switch cannot silently measure
     * another tile.
     */
    static int choice(String property, String value, String... names) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(value)) {
                return i;
            }
        }
        throw new IllegalArgumentException("-D" + property + "=" + value + ": supported values are " + names[0]
                + " (default), " + String.join(", ", java.util.Arrays.asList(names).subList(1, names.length)));
    }

    /**
     * {@code dev.interlayer.quant.compactTiles} (default true): Q4_0's block-scale tile and Q6_K's 512-bit tile
     * in the forms that stay within C2's parse budget ({@link Q40ScaleTiles#far8}, {@link Q6KTiles#far2Wide})
     * instead of the written-out ones ({@code far8Unrolled}, {@code far2WideUnrolled}). The same outputs bit for
     * bit. The written-out tiles ran 10-25% faster when C2 compiled them whole, but in a JVM that had run much
     * other vector code they boxed every vector (1 MB per 512x512 product), and in some fresh JVMs too.
     */
    static final boolean COMPACT =
            Boolean.parseBoolean(System.getProperty("dev.interlayer.quant.compactTiles", "true"));

    /**
     * {@code dev.interlayer.q8_0.tile}: Q8_0's decode tile. {@code eight} (default): {@link Q80Tiles#eight} with
     * 512-bit vectors (other widths take {@code scale}): the block scale applied once per block, eight rows per
     * iteration; 1.25-1.4x {@code scale} per weight on Zen 5 (BENCHMARKS.md, issue #12). {@code scale}: {@link
     * Q80Tiles#scaleFar8}, the same floats bit for bit, within C2's parse budget. Batched decode follows both with
     * {@link Q80Tiles#scaleW2x4}. {@code written}: the dequantizing {@link Block32Tiles#q8_0Far8} (the floats of
     * {@link QuantDecode}; past C2's parse budget, so it may box in a JVM that ran much other vector code). Any other
     * value is refused.
     */
    static final int Q8_0_EIGHT = 0, Q8_0_SCALED = 1, Q8_0_WRITTEN = 2;
    static final int Q8_0_TILE = q80Tile(System.getProperty("dev.interlayer.q8_0.tile", "eight"));
    static final boolean Q8_0_SCALE = Q8_0_TILE != Q8_0_WRITTEN;
    /**
     * {@code dev.interlayer.q6_k.tile}, 512-bit vectors: {@code unrolled} (default) decodes Q6_K with
     * {@link Q6KTiles#far2WideUnrolled}, {@code wide} with {@link Q6KTiles#far2Wide} (but
     * {@link #COMPACT} = false selects the written-out tile too); the same floats bit for bit. Any other value is
     * refused.
     */
    static final boolean Q6_K_UNROLLED = q6kTile(System.getProperty("dev.interlayer.q6_k.tile", "unrolled"));
    /**
     * {@code dev.interlayer.q4_k.tile}: {@code four} (default) decodes Q4_K with {@link Q4KTiles#far4} over quarters
     * of the range; {@code eight} (512-bit vectors; other widths take {@code four}) with {@link Q4KTiles#eight} over
     * eighths (the 0-7 rows left over by the four-row tile, then one at a time): the same floats bit for bit,
     * 0.75-0.82x as fast on Zen 5 (see {@link Q4KTiles}); its C1 compile can fail ("out of virtual registers"), which
     * left Q4_0's {@link Q40ScaleTiles#far8Unrolled} in C1 code in a model run (see {@link #Q4_0_TILE}). Any other value
     * is refused.
     */
    static final boolean Q4_K_EIGHT = q4kTile(System.getProperty("dev.interlayer.q4_k.tile", "four"));

    private TileDriver() {
    }

    /** The tile kind of t, or −1 when t has no tile kernels. */
    static int kind(DType t) {
        return switch (t) {
            case Q8_0 -> Q8_0;
            case Q4_0 -> Q4_0;
            case Q4_K -> Q4_K;
            case Q6_K -> Q6_K;
            default -> -1;
        };
    }

    /**
     * Floats of scratch for rows of k values: eight rows' lanes, then four rows' K-quant scales (k/16 each), eight
     * rows' scales of one Q4_K super-block (128, {@link Q4KTiles#eight}) or Q4_0's block sums, eight offset sums and activation terms ({@link Q40ScaleTiles#far8}: k/32 + 8 + k).
     */
    static int scratch(int k) {
        return 8 * VL + k / 4 + k + 8;
    }

    /** The Q8_0 tile named by {@code value} ({@link #Q8_0_TILE}); refuses other names. */
    static int q80Tile(String value) {
        return choice("dev.interlayer.q8_0.tile", value, "eight", "scale", "written");   // = Q8_0_EIGHT, _SCALED, _WRITTEN
    }

    /** Whether {@code value} names the written-out Q6_K tile ({@link #Q6_K_UNROLLED}); refuses other names. */
    static boolean q6kTile(String value) {
        return choice("dev.interlayer.q6_k.tile", value, "unrolled", "wide") == 0;
    }

    /** Whether {@code value} names the eight-row Q4_K tile ({@link #Q4_K_EIGHT}); refuses other names. */
    static boolean q4kTile(String value) {
        return choice("dev.interlayer.q4_k.tile", value, "four", "eight") == 1;
    }

    static void decode(int kind, int k, float[] x, int xo, MemorySegment w, long wOff, long rowBytes, float[] s,
                       float[] c, int cOff, int j0, int j1) {
        if (kind == Q6_K) {
            q6K(k, x, xo, w, wOff, rowBytes, s, c, cOff, j0, j1);
            return;
        }
        if (kind == Q8_0) {
            int q = (j1 - j0) / 8;
            long step = q * rowBytes;
            for (int j = j0; j < j0 + q; j++) {
                if (Q8_0_SCALE) {
                    if (Q8_0_TILE == Q8_0_EIGHT && VL == 16) {
                        Q80Tiles.eight(w, wOff + j * rowBytes, step, k, x, xo, s);
                    } else {
                        Q80Tiles.scaleFar8(w, wOff + j * rowBytes, step, k, x, xo, s);
                    }
                    for (int r = 0; r < 8; r++) {
                        c[cOff + j + r * q] = QSpecies.hsum(s, r * VL);
                    }
                } else {
                    Block32Tiles.q8_0Far8(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
                }
            }
            for (int j = j0 + 8 * q; j < j1; j++) {
                c[cOff + j] = Q8_0_SCALE ? Q80Tiles.scaleOne(w, wOff + j * rowBytes, k, x, xo, s)
                        : Block32Tiles.q8_0One(w, wOff + j * rowBytes, k, x, xo, s);
            }
            return;
        }
        if (kind == Q4_0 && Q4_0_BLOCKSCALE) {
            q4_0Scaled(k, x, xo, w, wOff, rowBytes, s, c, cOff, j0, j1);
            return;
        }
        if (kind == Q4_K && Q4_K_EIGHT && VL == 16) {
            int q = (j1 - j0) / 8;
            long step = q * rowBytes;
            for (int j = j0; j < j0 + q; j++) {
                Q4KTiles.eight(w, wOff + j * rowBytes, step, k, x, xo, s);
                for (int r = 0; r < 8; r++) {
                    c[cOff + j + r * q] = QSpecies.hsum(s, r * VL);
                }
            }
            j0 += 8 * q;
        }
        int q = (j1 - j0) / 4;
        long step = q * rowBytes;
        for (int j = j0; j < j0 + q; j++) {
            long o = wOff + j * rowBytes;
            switch (kind) {
                case Q4_0 -> Block32Tiles.q4_0Far4(w, o, step, k, x, xo, s, c, cOff + j, q);
                default -> Q4KTiles.far4(w, o, step, k, x, xo, s, c, cOff + j, q);
            }
        }
        for (int j = j0 + 4 * q; j < j1; j++) {
            long o = wOff + j * rowBytes;
            c[cOff + j] = switch (kind) {
                case Q4_0 -> Block32Tiles.q4_0One(w, o, k, x, xo, s);
                default -> Q4KTiles.one(w, o, k, x, xo, s);
            };
        }
    }

    /**
     * Q4_0 by {@link Q40ScaleTiles}: the block sums of x once into {@code s[SUMS ..]}, then eight far rows per tile
     * (eighths of the range, as Q8_0): a four-row block-scale tile ran no faster than {@link Block32Tiles#q4_0Far4},
     * the eight-row one 1.2-1.4x (QuantKernelProbe, one thread, one JVM, loaded machine).
     */
    private static void q4_0Scaled(int k, float[] x, int xo, MemorySegment w, long wOff, long rowBytes, float[] s,
                                   float[] c, int cOff, int j0, int j1) {
        Q40ScaleTiles.blockSums(k, x, xo, s, Q40ScaleTiles.SUMS);
        int q = (j1 - j0) / 8;
        long step = q * rowBytes;
        for (int j = j0; j < j0 + q; j++) {
            if (Q4_0_TILE == Q4_0_QUADS) {
                Q40ScaleTiles.far8Quads(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
            } else if (Q4_0_TILE == Q4_0_PAIRS && COMPACT) {
                Q40ScaleTiles.far8(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
            } else {
                Q40ScaleTiles.far8Unrolled(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
            }
        }
        for (int j = j0 + 8 * q; j < j1; j++) {
            c[cOff + j] = Q40ScaleTiles.one(w, wOff + j * rowBytes, k, x, xo, s);
        }
    }

    /**
     * Q6_K: two rows half the range apart per tile ({@link Q6KTiles#far2}), the odd row left one at a time. Its
     * four-row tile exceeded C2's inlining node budget and, in a JVM that had run the other formats, compiled
     * into boxing code (84 MB per 2048x8192 product, 3x slower); the one-row kernel is bound by its single
     * FMA chain. With 512-bit vectors the tile is {@link Q6KTiles#far2Wide} (the same floats, fewer instructions).
     */
    private static void q6K(int k, float[] x, int xo, MemorySegment w, long wOff, long rowBytes, float[] s, float[] c,
                            int cOff, int j0, int j1) {
        int q = (j1 - j0) / 2;
        long step = q * rowBytes;
        for (int j = j0; j < j0 + q; j++) {
            if (VL == 16 && COMPACT && !Q6_K_UNROLLED) {
                Q6KTiles.far2Wide(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
            } else if (VL == 16) {
                Q6KTiles.far2WideUnrolled(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
            } else {
                Q6KTiles.far2(w, wOff + j * rowBytes, step, k, x, xo, s, c, cOff + j, q);
            }
        }
        for (int j = j0 + 2 * q; j < j1; j++) {
            c[cOff + j] = Q6KTiles.one(w, wOff + j * rowBytes, k, x, xo, s);
        }
    }
}
