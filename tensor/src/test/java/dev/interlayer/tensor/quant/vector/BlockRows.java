package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntToDoubleFunction;

/**
 * Test data and harness of the block-32 decode tile tests: rows of blocks that start with an f16 scale, Gaussian
 * activations, and the eight-row and one-row tiles run over n rows as {@link TileDriver} arranges them; and the
 * random rows and special f16 scales of the K-quant decoding tests.
 */
final class BlockRows {
    /**
     * Two tiles' outputs equal bit for bit (raw bits: a -0 or a NaN payload counts), each difference reported with
     * {@code where}, the row and both values.
     */
    static void assertSameBits(float[] want, float[] got, String where) {
        assertEquals(want.length, got.length, where + ": lengths");
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                    where + " row " + i + ": " + want[i] + " vs " + got[i]);
        }
    }

    /** An eight-row tile: rows o0 + r·step with x from xo, outputs c[ci + r·cs]. */
    interface Eight {
        void tile(MemorySegment w, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci, int cs);
    }

    /** A one-row tile: the row at byte o with x from xo. */
    interface One {
        float row(MemorySegment w, long o, int k, float[] x, int xo, float[] s);
    }

    /** What a format computes from x before its tiles run (Q4_0's block sums), into the scratch s. */
    interface Prepare {
        void prepare(int k, float[] x, int xo, float[] s);
    }

    /**
     * A block's share of a row's exact product, in double: adds the block's Σ_i value_i·x_i to {@code sums[0]} and
     * the magnitude the format's rounding error scales with to {@code sums[1]}; the block's 32 values meet
     * x[xb ..].
     */
    interface BlockOracle {
        void add(MemorySegment w, long o, float[] x, int xb, double[] sums);
    }

    /**
     * A block-32 format's decode tiles and their oracle: an output may miss the oracle's sum by
     * {@code tolerance(k)·sums[1]}.
     */
    record Format(int blockBytes, Prepare prepare, Eight eight, One one, BlockOracle oracle,
                  IntToDoubleFunction tolerance) {
    }

    private static final int GAP = 6, XO = 3, CI = 2, CS = 3;
    /** f16 scales a decoder must get right: zero, the largest f16 (65504), the smallest subnormal, and its negative. */
    private static final short[] SPECIAL_F16 = {0x0000, 0x7BFF, 0x0001, (short) 0x8001};

    private BlockRows() {
    }

    /**
     * The tiles of f against its oracle for each block count: row counts 1..17 (the eight-row tile and the one-row
     * remainder), then 7 and 16 rows with an extreme scale and activation; rows with a gap after them, activations
     * at an offset, outputs at an offset and stride.
     */
    static void sweep(Format f, Random r, int... blockCounts) {
        for (int nb : blockCounts) {
            for (int n = 1; n <= 17; n++) {
                check(f, r, n, nb, false);
            }
            check(f, r, 7, nb, true);
            check(f, r, 16, nb, true);
        }
    }

    private static void check(Format f, Random r, int n, int nb, boolean extreme) {
        int k = 32 * nb;
        long rowBytes = (long) f.blockBytes() * nb + GAP;
        MemorySegment w = weights(r, n, nb, rowBytes, f.blockBytes(), extreme);
        float[] x = activations(r, k, XO, extreme);
        float[] s = new float[TileDriver.scratch(k)];
        f.prepare().prepare(k, x, XO, s);
        float[] c = decode(f.eight(), f.one(), w, n, k, rowBytes, x, XO, s, CI, CS);
        for (int j = 0; j < n; j++) {
            double[] sums = new double[2];
            for (int b = 0; b < nb; b++) {
                f.oracle().add(w, j * rowBytes + (long) f.blockBytes() * b, x, XO + 32 * b, sums);
            }
            float got = c[CI + j * CS];
            String what = "n=" + n + " blocks=" + nb + (extreme ? " extreme" : "") + " row " + j;
            assertTrue(Float.isFinite(got), what + ": " + got);
            assertEquals(sums[0], got, f.tolerance().applyAsDouble(k) * sums[1], what);
        }
    }

    /**
     * n rows of nb blocks of {@code blockBytes} bytes, rowBytes apart (a gap after each row): random bytes, then each
     * block's leading f16 scale Gaussian (σ 0.02), one block per row at ±f16 max if {@code extreme}.
     */
    static MemorySegment weights(Random r, int n, int nb, long rowBytes, int blockBytes, boolean extreme) {
        MemorySegment w = Arena.ofAuto().allocate(Math.max(1, n * rowBytes), 64);
        byte[] codes = new byte[(int) (n * rowBytes)];
        r.nextBytes(codes);
        w.copyFrom(MemorySegment.ofArray(codes));
        for (int j = 0; j < n; j++) {
            for (int b = 0; b < nb; b++) {
                float d = (float) (r.nextGaussian() * 0.02);
                if (extreme && b == nb / 2) {
                    d = j % 2 == 0 ? 65504f : -65504f;
                }
                w.set(ValueLayout.JAVA_SHORT_UNALIGNED, j * rowBytes + (long) blockBytes * b, Float.floatToFloat16(d));
            }
        }
        return w;
    }

    /** {@code bytes} random bytes in a 64-byte-aligned segment of {@code arena}. */
    static MemorySegment randomBytes(Arena arena, Random r, long bytes) {
        MemorySegment w = arena.allocate(Math.max(1, bytes), 64);
        for (long i = 0; i < bytes; i++) {
            w.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        }
        return w;
    }

    /**
     * The i-th f16 scale of a K-quant test row: for i mod 5 &lt; 4, half the time the special value
     * {@code SPECIAL_F16[i mod 5]} (so a row of a few scales meets each of them); otherwise Gaussian with σ sigma.
     */
    static short f16Scale(Random r, int i, double sigma) {
        return i % 5 < SPECIAL_F16.length && r.nextBoolean() ? SPECIAL_F16[i % 5]
                : Float.floatToFloat16((float) (r.nextGaussian() * sigma));
    }

    static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** k Gaussian activations from xo (and 5 after); if extreme, two of them at 1e30 and −3e29. */
    static float[] activations(Random r, int k, int xo, boolean extreme) {
        float[] x = gaussian(r, xo + k + 5);
        if (extreme && k > 0) {
            x[xo + k / 2 + 1] = 1e30f;
            x[xo + k - 1] = -3e29f;
        }
        return x;
    }

    /**
     * Rows j &lt; n (rowBytes apart from byte 0) with x: the eight-row tile over the first 8·(n/8) rows (row j with
     * rows j + q, .., j + 7q, q = n/8), the one-row tile over the rest, as {@link TileDriver} does; outputs at
     * c[ci + j·cs], and every other slot of c checked unwritten.
     */
    static float[] decode(Eight eight, One one, MemorySegment w, int n, int k, long rowBytes, float[] x, int xo,
                          float[] s, int ci, int cs) {
        float[] c = new float[ci + n * cs + 4];
        Arrays.fill(c, Float.NaN);
        int q = n / 8;
        for (int j = 0; j < q; j++) {
            eight.tile(w, j * rowBytes, q * rowBytes, k, x, xo, s, c, ci + j * cs, q * cs);
        }
        for (int j = 8 * q; j < n; j++) {
            c[ci + j * cs] = one.row(w, j * rowBytes, k, x, xo, s);
        }
        for (int i = 0; i < c.length; i++) {
            boolean output = i >= ci && (i - ci) % cs == 0 && (i - ci) / cs < n;
            assertEquals(output, !Float.isNaN(c[i]), "output slot " + i + " written: " + !output);
        }
        return c;
    }
}
