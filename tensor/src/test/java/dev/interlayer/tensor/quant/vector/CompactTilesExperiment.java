package dev.interlayer.tensor.quant.vector;

import static dev.interlayer.tensor.quant.vector.QSpecies.B;
import static dev.interlayer.tensor.quant.vector.QSpecies.F;
import static dev.interlayer.tensor.quant.vector.QSpecies.I;
import static dev.interlayer.tensor.quant.vector.QSpecies.LE;
import static dev.interlayer.tensor.quant.vector.QSpecies.NATIVE;
import static dev.interlayer.tensor.quant.vector.QSpecies.PARTS;
import static dev.interlayer.tensor.quant.vector.QSpecies.VL;
import static dev.interlayer.tensor.quant.vector.QSpecies.f16;
import static dev.interlayer.tensor.quant.vector.QSpecies.hsum;

import com.sun.management.ThreadMXBean;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The attempted fix of issue #12's boxing decode tiles, kept as an experiment (not shipped: 30-45% slower).
 * {@link Q40ScaleTiles#far8} and {@link Q6KTiles#far2Wide} parse to about 20 500 and 20 000 C2 nodes
 * before C2 stops inlining at its NodeCountInliningCutoff (18 000; a develop flag, fixed in product JVMs), and
 * written out in full they would be about 55 000 and 38 000: every Vector API call after the cutoff is inlined
 * late, through the type profiles of the Vector API's own shared call sites, and in a JVM where those have seen
 * other shapes (the tensor test suite's) that code boxes its vectors. These forms keep the same floats and
 * operation order with a loop over the rows whose body is one row's work, each row's accumulator kept in
 * scratch between blocks (Q4_0: the activation terms computed once per call into scratch): about 12 500 and
 * 14 500 nodes, no late inlining, 0 B/call in the polluted JVM ({@code PollutedDecodeProbe}), but one thread,
 * 2048x2048, best of 15 s: Q4_0 5.0-5.4 GB/s against 8.2-8.4 shipped, Q6_K 4.4-4.7 against 6.7-6.8. (A
 * variant keeping each row's accumulator in a register over eight blocks: 5.3 and 3.8 GB/s.)
 *
 * <p>{@link #check} compares them bit for bit with the shipped tiles and measures the allocation of both.
 */
public final class CompactTilesExperiment {
    private CompactTilesExperiment() {
    }

    /** {@link Q40ScaleTiles#far8}'s outputs; scratch as {@link TileDriver#scratch} plus k + 8 floats. */
    static void far8(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                     int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);
        int nb = k / 32, g = Q40ScaleTiles.SUMS + nb, t = g + 8;
        for (int b = 0; b < nb; b++) {
            for (int p = 0; p < PARTS; p++) {
                int xp = xo + 32 * b + p * VL, tp = t + 32 * b + p * VL;
                FloatVector xh = FloatVector.fromArray(F, x, xp + 16).mul(0.0625f);
                FloatVector.fromArray(F, x, xp).sub(xh).intoArray(s, tp);
                xh.intoArray(s, tp + 16);
            }
        }
        Arrays.fill(s, 0, 8 * VL, 0f);
        Arrays.fill(s, g, g + 8, 0f);
        FloatVector z = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            float sb = s[Q40ScaleTiles.SUMS + b];
            for (int r = 0; r < 8; r++) {
                long o = o0 + r * step + 18L * b;
                float e = f16(w, o);
                s[g + r] = Math.fma(e, sb, s[g + r]);
                ByteVector v = ByteVector.fromMemorySegment(B, w, o + 2, LE);
                FloatVector tb = z;
                for (int p = 0; p < PARTS; p++) {
                    int part = PARTS == 1 ? 0 : p;
                    int tp = t + 32 * b + p * VL;
                    IntVector u = (IntVector) v.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, part);
                    tb = ((FloatVector) u.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, s, tp + 16),
                            ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0))
                                    .fma(FloatVector.fromArray(F, s, tp), tb));
                }
                tb.fma(FloatVector.broadcast(F, e), FloatVector.fromArray(F, s, r * VL)).intoArray(s, r * VL);
            }
        }
        for (int r = 0; r < 8; r++) {
            c[ci + r * cs] = Math.fma(-8f, s[g + r], hsum(s, r * VL));
        }
    }

    /** {@link Q6KTiles#far2Wide}'s outputs (512-bit floats only). */
    static void far2Wide(MemorySegment seg, long o0, long step, int k, float[] x, int xo, float[] s, float[] c, int ci,
                         int cs) {
        MemorySegment w = (MemorySegment) NATIVE.cast(seg);
        int sc = 4 * VL;
        Arrays.fill(s, 0, 2 * VL, 0f);
        for (int sb = 0, n = k / 256; sb < n; sb++) {
            long b = o0 + 210L * sb;
            for (int r = 0; r < 2; r++) {
                Q6KTiles.scalesFolded(w, b + r * step, s, sc + 32 * r);
            }
            for (int t = 0; t < 16; t++) {        // run t: codes 16t.., half t/8, group t/2 mod 4, run t mod 2
                int h = t >> 3, g = (t >> 1) & 3, lo = 4 * (g >> 1), rot = 4 - 2 * g;
                long q = b + 64 * h + 32 * (g & 1) + 16 * (t & 1), qh = b + 128 + 32 * h + 16 * (t & 1);
                FloatVector xv = FloatVector.fromArray(F, x, xo + 256 * sb + 16 * t);
                for (int r = 0; r < 2; r++) {
                    long ro = r * step;
                    int j = sc + 32 * r + t;
                    ByteVector e = ByteVector.fromMemorySegment(B, w, q + ro, LE).reinterpretAsInts()
                            .lanewise(VectorOperators.LSHR, lo).and(0x0F0F0F0F)
                            .or(ByteVector.fromMemorySegment(B, w, qh + ro, LE).reinterpretAsInts()
                                    .lanewise(VectorOperators.ROL, rot).and(0x30303030)).reinterpretAsBytes();
                    ((FloatVector) e.convertShape(VectorOperators.B2F, F, 0))
                            .fma(FloatVector.broadcast(F, s[j]), FloatVector.broadcast(F, s[j + 16]))
                            .fma(xv, FloatVector.fromArray(F, s, r * VL)).intoArray(s, r * VL);
                }
            }
        }
        for (int r = 0; r < 2; r++) {
            c[ci + r * cs] = hsum(s, r * VL);
        }
    }

    /**
     * Rows n × k = 512 × 512 of random Q4_0 and Q6_K codes, the shipped and the compact tiles over all rows as
     * {@link TileDriver} cuts them: whether the outputs agree bit for bit, and bytes allocated and ns per product
     * (best of {@code rounds} rounds of 50) for each. Needs 512-bit float vectors.
     */
    public static String check(int rounds) {
        if (VL != 16) {
            return "compact tiles: skipped (" + 32 * VL + "-bit floats)";
        }
        int n = 512, k = 512;
        Random r = new Random(5);
        float[] x = new float[k];
        for (int i = 0; i < k; i++) {
            x[i] = (float) r.nextGaussian();
        }
        MemorySegment q4 = random(n * 18L * (k / 32), r, 18, 0), q6 = random(n * 210L * (k / 256), r, 210, 208);
        float[] s = new float[TileDriver.scratch(k) + k + 8];
        float[][] out = new float[4][n];
        long[] bytes = new long[4], nanos = new long[4];
        Arrays.fill(nanos, Long.MAX_VALUE);
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < 4; v++) {
                long a0 = mx.getCurrentThreadAllocatedBytes(), t0 = System.nanoTime();
                for (int call = 0; call < 50; call++) {
                    run(v, v < 2 ? q4 : q6, n, k, x, s, out[v]);
                }
                nanos[v] = Math.min(nanos[v], (System.nanoTime() - t0) / 50);
                bytes[v] = (mx.getCurrentThreadAllocatedBytes() - a0) / 50;
            }
        }
        boolean same4 = Arrays.equals(out[0], out[1]), same6 = Arrays.equals(out[2], out[3]);
        return String.format("Q4_0 far8 %d B/call %d us, compact %d B/call %d us, bit-identical %b; "
                        + "Q6_K far2Wide %d B/call %d us, compact %d B/call %d us, bit-identical %b",
                bytes[0], nanos[0] / 1000, bytes[1], nanos[1] / 1000, same4,
                bytes[2], nanos[2] / 1000, bytes[3], nanos[3] / 1000, same6);
    }

    private static void run(int v, MemorySegment w, int n, int k, float[] x, float[] s, float[] c) {
        if (v < 2) {
            long rowBytes = 18L * (k / 32);
            Q40ScaleTiles.blockSums(k, x, 0, s, Q40ScaleTiles.SUMS);
            int q = n / 8;
            for (int j = 0; j < q; j++) {
                if (v == 0) {
                    Q40ScaleTiles.far8(w, j * rowBytes, q * rowBytes, k, x, 0, s, c, j, q);
                } else {
                    far8(w, j * rowBytes, q * rowBytes, k, x, 0, s, c, j, q);
                }
            }
        } else {
            long rowBytes = 210L * (k / 256);
            int q = n / 2;
            for (int j = 0; j < q; j++) {
                if (v == 2) {
                    Q6KTiles.far2Wide(w, j * rowBytes, q * rowBytes, k, x, 0, s, c, j, q);
                } else {
                    far2Wide(w, j * rowBytes, q * rowBytes, k, x, 0, s, c, j, q);
                }
            }
        }
    }

    /** Random bytes off heap with a small normal f16 scale at {@code scaleAt} of every block. */
    private static MemorySegment random(long size, Random r, int block, int scaleAt) {
        byte[] b = new byte[(int) size];
        r.nextBytes(b);
        for (int o = scaleAt; o + 1 < b.length; o += block) {
            short h = Float.floatToFloat16((float) (r.nextGaussian() * 0.02));
            b[o] = (byte) h;
            b[o + 1] = (byte) (h >> 8);
        }
        return Arena.ofAuto().allocate(size, 64).copyFrom(MemorySegment.ofArray(b));
    }
}
