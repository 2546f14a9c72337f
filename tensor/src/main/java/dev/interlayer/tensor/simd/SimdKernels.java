package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Binary;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Kernels;
import dev.interlayer.tensor.Reduction;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.SoftmaxOptions;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import dev.interlayer.tensor.kernel.Broadcast;
import dev.interlayer.tensor.kernel.Checks;
import dev.interlayer.tensor.kernel.Rows;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Vector API implementation of {@link Kernels}. Every layout is accepted: contiguous F32 rows on the
 * heap are processed in place; other rows (native or mapped F32, F16/BF16, strided or broadcast
 * views) go through a scratch row (see {@link RowCursor}), so results never depend on layout beyond
 * float rounding. Large row ops are split over {@link ComputePool}.
 */
public final class SimdKernels implements Kernels {
    /** Elements per tile of element-wise ops (bounds scratch rows for huge flat tensors). */
    private static final int TILE = 1 << 14;
    /**
     * Minimum estimated work (element-operations, transcendental ~16-24 each) before an op is split over
     * threads. Conservative: on the 2-core build machine a [16, 4096] rmsNorm or add ran no faster split,
     * while SiLU over [16, 11008] and attention-sized softmax did.
     */
    private static final long PARALLEL_MIN_WORK = 1L << 21;

    private final VecOps v;

    /**
     * Kernels at a fixed vector width.
     *
     * @param bits 128, 256 or 512 to force that FloatVector species width; -1 for the preferred species
     * @throws IllegalArgumentException for any other value
     */
    public SimdKernels(int bits) {
        int b = bits == -1 ? preferredBits() : bits;
        this.v = switch (b) {
            case 128 -> new Vec128();
            case 256 -> new Vec256();
            case 512 -> new Vec512();
            default -> throw new IllegalArgumentException("SimdKernels: bits must be -1, 128, 256 or 512, got " + bits);
        };
    }

    /** The preferred species width mapped to one we generate code for (128 on narrower hardware). */
    static int preferredBits() {
        int p = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        return p >= 512 ? 512 : p >= 256 ? 256 : 128;
    }

    /** Vector width in bits. */
    public int bits() {
        return v.bits();
    }

    @Override
    public String name() {
        return "simd-" + v.bits();
    }

    // ---- drivers ----

    @FunctionalInterface
    private interface RangeBody {
        void run(long lo, long hi);
    }

    @FunctionalInterface
    private interface TileOp {
        void apply(RowCursor[] in, RowCursor out, int len);
    }

    // Runs body over [0, count), split into ComputePool chunks when the work clearly pays for it.
    private static void forRange(long count, long work, RangeBody body) {
        int threads = ComputePool.threads();
        if (count <= 1 || threads == 1 || work < PARALLEL_MIN_WORK) {
            body.run(0, count);
            return;
        }
        int chunks = (int) Math.min(count, threads * 4L);
        ComputePool.parallelFor(chunks, c -> body.run(count * c / chunks, count * (c + 1) / chunks));
    }

    private static int width(Tensor t) {
        return t.rank() == 0 ? 1 : t.dim(-1);
    }

    // ---- allocation-free fast paths (decode) ----
    // Contiguous F32 heap tensors too small to split over threads are handed to the array loops
    // directly: no cursors, lambdas or scratch rows, so a decode step allocates nothing here.

    /** Per-thread scratch for a norm weight row read from a mapped (non-heap) tensor. */
    private static final ThreadLocal<float[][]> WEIGHT_SCRATCH = ThreadLocal.withInitial(() -> new float[1][]);
    /** Per-thread scratch rows for {@link #rowArray}: slot 0/1 layerNorm weight/bias, slot 2 a binary operand. */
    private static final ThreadLocal<float[][]> ROW_SCRATCH = ThreadLocal.withInitial(() -> new float[3][]);

    /**
     * The first n elements of a contiguous F32 tensor as an array: its heap array (at
     * {@link #rowArrayOffset}) or, for mapped/native memory, a bulk copy into per-thread scratch slot
     * {@code slot} (offset 0). Null when t is not contiguous F32 (callers take the general path).
     */
    private static float[] rowArray(Tensor t, int n, int slot) {
        float[] d = direct(t);
        if (d != null) {
            return d;
        }
        if (t.dtype() != DType.F32 || !t.isContiguous()) {
            return null;
        }
        float[][] holder = ROW_SCRATCH.get();
        if (holder[slot] == null || holder[slot].length < n) {
            holder[slot] = new float[n];
        }
        MemorySegment.copy(t.segment(), Tensor.F32, t.byteOffset(), holder[slot], 0, n);
        return holder[slot];
    }

    private static int rowArrayOffset(Tensor t) {
        return direct(t) != null ? GemmKernel.heapIndex(t) : 0;
    }

    // The backing float[] when t is F32, contiguous and on the (writable) heap, else null.
    private static float[] direct(Tensor t) {
        return t.dtype() == DType.F32 && t.isContiguous() && t.segment().address() % 4 == 0 ? t.heapFloats() : null;
    }

    private static boolean sequential(long count, long work) {
        return count <= 1 || ComputePool.threads() == 1 || work < PARALLEL_MIN_WORK;
    }

    /**
     * Element-wise driver: ins already have out's shape (expanded views allowed). When every tensor is
     * contiguous they are walked as one flat row; otherwise row by row. readOut loads out first (axpy).
     */
    private static void elementwise(Tensor out, Tensor[] ins, boolean readOut, int costPerElement, TileOp op) {
        long n = out.size();
        if (n == 0) {
            return;
        }
        boolean flat = out.isContiguous() && n <= Integer.MAX_VALUE - 8;
        for (Tensor in : ins) {
            flat &= in.isContiguous();
        }
        Tensor o = flat ? out.reshape((int) n) : out;
        Tensor[] xs = new Tensor[ins.length];
        for (int i = 0; i < ins.length; i++) {
            xs[i] = flat ? ins[i].reshape((int) n) : ins[i];
        }
        int d = width(o);
        long rowCount = Rows.rowCount(o);
        int tilesPerRow = (d + TILE - 1) / TILE;
        forRange(rowCount * tilesPerRow, n * costPerElement, (lo, hi) -> {
            RowCursor oc = new RowCursor(o);
            RowCursor[] ics = new RowCursor[xs.length];
            for (int i = 0; i < xs.length; i++) {
                ics[i] = new RowCursor(xs[i]);
            }
            for (long k = lo; k < hi; k++) {
                long r = k / tilesPerRow;
                int start = (int) (k % tilesPerRow) * TILE;
                int len = Math.min(TILE, d - start);
                for (RowCursor c : ics) {
                    c.read(r, start, len);
                }
                if (readOut) {
                    oc.read(r, start, len);
                } else {
                    oc.beginWrite(r, start, len);
                }
                op.apply(ics, oc, len);
                oc.endWrite(r, start, len);
            }
        });
    }

    // ---- element-wise ----

    @Override
    public Tensor binary(Binary op, Tensor a, Tensor b, Tensor out) {
        if (a.shape().equals(out.shape()) && out.size() <= Integer.MAX_VALUE && out.rank() >= 1) {
            float[] ad = direct(a), od = direct(out);
            int n = (int) out.size(), d = out.dim(-1);
            if (ad != null && od != null && sequential(Rows.rowCount(out), n)) {
                int ai = GemmKernel.heapIndex(a), oi = GemmKernel.heapIndex(out);
                // b of out's shape (a heap tensor, or e.g. learned-position rows of a mapped table), or one
                // row [d] broadcast over every row (a mapped bias): no cursors, lambdas or allocation.
                boolean same = b.shape().equals(out.shape()), row = b.rank() == 1 && b.dim(0) == d;
                float[] bd = same || row ? rowArray(b, same ? n : d, 2) : null;
                if (bd != null) {
                    int bi = rowArrayOffset(b);
                    if (same) {
                        v.binary(op, ad, ai, bd, bi, od, oi, n);
                    } else {
                        for (int r = 0; r < n; r += d) {
                            v.binary(op, ad, ai + r, bd, bi, od, oi + r, d);
                        }
                    }
                    return out;
                }
            }
        }
        Shape s = Broadcast.shape("binary " + op, a.shape(), b.shape());
        Checks.sameShape("binary " + op + " out", s, out.shape());
        Checks.requireF32("binary " + op, out);
        Checks.requireFloat("binary " + op, a);
        Checks.requireFloat("binary " + op, b);
        Tensor ea = a.shape().equals(s) ? a : a.expand(s);
        Tensor eb = b.shape().equals(s) ? b : b.expand(s);
        elementwise(out, new Tensor[] {ea, eb}, false, 1, (in, o, len) ->
                v.binary(op, in[0].arr, in[0].off, in[1].arr, in[1].off, o.arr, o.off, len));
        return out;
    }

    @Override
    public Tensor scale(Tensor a, float s, Tensor out) {
        Checks.sameShape("scale", a.shape(), out.shape());
        Checks.requireFloat("scale", a);
        Checks.requireFloat("scale out", out);
        float[] ad = direct(a), od = direct(out);
        if (ad != null && od != null && out.size() <= Integer.MAX_VALUE
                && sequential(out.rank() == 0 ? 1 : Rows.rowCount(out), out.size())) {
            // Contiguous heap F32 (Gemma's embedding scale, once per decode step): no cursors or lambda.
            v.scale(ad, GemmKernel.heapIndex(a), s, od, GemmKernel.heapIndex(out), (int) out.size());
            return out;
        }
        elementwise(out, new Tensor[] {a}, false, 1, (in, o, len) ->
                v.scale(in[0].arr, in[0].off, s, o.arr, o.off, len));
        return out;
    }

    @Override
    public Tensor axpy(float alpha, Tensor x, Tensor y) {
        Checks.sameShape("axpy", x.shape(), y.shape());
        Checks.requireFloat("axpy", x);
        Checks.requireFloat("axpy y", y);
        elementwise(y, new Tensor[] {x}, true, 1, (in, o, len) ->
                v.axpy(alpha, in[0].arr, in[0].off, o.arr, o.off, len));
        return y;
    }

    @Override
    public Tensor unary(Unary f, Tensor x, Tensor out) {
        int cost = switch (f) {
            case RELU, NEG, ABS, SQUARE, RELU2 -> 1;
            default -> 16; // transcendental: worth threads at smaller sizes
        };
        float[] xd = direct(x), od = direct(out);
        if (xd != null && od != null && x.shape().equals(out.shape()) && x.size() <= Integer.MAX_VALUE
                && sequential(Rows.rowCount(out), out.size() * cost)) {
            v.unary(f, xd, GemmKernel.heapIndex(x), od, GemmKernel.heapIndex(out), (int) out.size());
            return out;
        }
        Checks.sameShape("unary " + f, x.shape(), out.shape());
        Checks.requireFloat("unary " + f, x);
        Checks.requireFloat("unary " + f + " out", out);
        elementwise(out, new Tensor[] {x}, false, cost, (in, o, len) ->
                v.unary(f, in[0].arr, in[0].off, o.arr, o.off, len));
        return out;
    }

    // ---- row ops ----

    // The weight row as a float[] of length d (null stays null); onePlus adds 1 (Gemma's stored w).
    private float[] weightRow(Tensor w, int d, boolean onePlus) {
        if (w == null) {
            return null;
        }
        RowCursor c = new RowCursor(w);
        c.read(0, 0, d);
        float[] r = new float[d];
        if (onePlus) {
            v.addScalar(c.arr, c.off, 1f, r, 0, d);
        } else {
            System.arraycopy(c.arr, c.off, r, 0, d);
        }
        return r;
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor weight, float eps, boolean onePlusWeight, Tensor out) {
        Checks.sameShape("rmsNorm", x.shape(), out.shape());
        int d = x.dim(-1);                    // a rank-0 x has no row: fails here, as in ScalarKernels
        if (weight != null && (weight.rank() != 1 || weight.dim(0) != d)) {
            Checks.sameShape("rmsNorm weight", Shape.of(d), weight.shape());
        }
        if (d == 0) {
            return out;
        }
        long n = Rows.rowCount(x);
        float[] xd = direct(x), od = direct(out);
        if (xd != null && od != null && sequential(n, n * d * 3)) {
            rmsNormDirect(xd, GemmKernel.heapIndex(x), weight, d, onePlusWeight, eps, od, GemmKernel.heapIndex(out), (int) n);
            return out;
        }
        float[] w = weightRow(weight, d, onePlusWeight);
        forRange(n, n * d * 3, (lo, hi) -> {
            RowCursor xc = new RowCursor(x), oc = new RowCursor(out);
            for (long r = lo; r < hi; r++) {
                xc.read(r, 0, d);
                float ss = v.sumSq(xc.arr, xc.off, d);
                float inv = (float) (1.0 / Math.sqrt((double) ss / d + eps));
                oc.beginWrite(r, 0, d);
                v.mulScaled(xc.arr, xc.off, inv, w, 0, oc.arr, oc.off, d);
                oc.endWrite(r, 0, d);
            }
        });
        return out;
    }

    // rmsNorm of n contiguous rows of width d on the calling thread; the weight is used in place when it
    // is a heap row, else read into a per-thread scratch row (mapped model weights).
    private void rmsNormDirect(float[] x, int xo, Tensor weight, int d, boolean onePlus, float eps, float[] out,
                               int oo, int n) {
        float[] w = null;
        int wo = 0;
        if (weight != null) {
            float[] wd = onePlus ? null : direct(weight);
            if (wd != null) {
                w = wd;
                wo = GemmKernel.heapIndex(weight);
            } else {
                float[][] holder = WEIGHT_SCRATCH.get();
                if (holder[0] == null || holder[0].length < d) {
                    holder[0] = new float[d];
                }
                w = holder[0];
                if (weight.dtype() == DType.F32 && weight.isContiguous()) {
                    MemorySegment.copy(weight.segment(), Tensor.F32, weight.byteOffset(), w, 0, d);
                } else {
                    for (int i = 0; i < d; i++) {
                        w[i] = weight.readFloat(weight.offset() + i * weight.stride(0));
                    }
                }
                if (onePlus) {
                    v.addScalar(w, 0, 1f, w, 0, d);
                }
            }
        }
        for (int r = 0; r < n; r++) {
            int xr = xo + r * d, or = oo + r * d;
            float ss = v.sumSq(x, xr, d);
            float inv = (float) (1.0 / Math.sqrt((double) ss / d + eps));
            v.mulScaled(x, xr, inv, w, wo, out, or, d);
        }
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        Checks.sameShape("layerNorm", x.shape(), out.shape());
        int d = x.dim(-1);
        if (weight != null) {
            Checks.sameShape("layerNorm weight", Shape.of(d), weight.shape());
        }
        if (bias != null) {
            Checks.sameShape("layerNorm bias", Shape.of(d), bias.shape());
        }
        if (d == 0) {
            return out;
        }
        long n = Rows.rowCount(x);
        float[] xd = direct(x), od = direct(out);
        float[] wr = weight == null ? null : rowArray(weight, d, 0), br = bias == null ? null : rowArray(bias, d, 1);
        if (xd != null && od != null && sequential(n, n * d * 4) && (weight == null) == (wr == null)
                && (bias == null) == (br == null)) {
            // Decode path (e.g. GPT-2, BERT): contiguous heap rows, weights read in place or into scratch.
            int xo = GemmKernel.heapIndex(x), oo = GemmKernel.heapIndex(out);
            int wo = weight == null ? 0 : rowArrayOffset(weight), bo = bias == null ? 0 : rowArrayOffset(bias);
            for (int r = 0; r < n; r++) {
                int xr = xo + r * d, or = oo + r * d;
                float mean = (float) ((double) v.sum(xd, xr, d) / d);
                double var = (double) v.sumSqDev(xd, xr, mean, d) / d;      // two-pass: no cancellation
                float inv = (float) (1.0 / Math.sqrt(var + eps));            // eps inside the sqrt
                v.normAffine(xd, xr, mean, inv, wr, wo, br, bo, od, or, d);
            }
            return out;
        }
        float[] w = weightRow(weight, d, false), b = weightRow(bias, d, false);
        forRange(n, n * d * 4, (lo, hi) -> {
            RowCursor xc = new RowCursor(x), oc = new RowCursor(out);
            for (long r = lo; r < hi; r++) {
                xc.read(r, 0, d);
                float mean = (float) ((double) v.sum(xc.arr, xc.off, d) / d);
                double var = (double) v.sumSqDev(xc.arr, xc.off, mean, d) / d; // two-pass: no cancellation
                float inv = (float) (1.0 / Math.sqrt(var + eps));                 // eps inside the sqrt
                oc.beginWrite(r, 0, d);
                v.normAffine(xc.arr, xc.off, mean, inv, w, 0, b, 0, oc.arr, oc.off, d);
                oc.endWrite(r, 0, d);
            }
        });
        return out;
    }

    @Override
    public Tensor softmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmaxRows("softmax", x, o, out, false);
    }

    @Override
    public Tensor logSoftmax(Tensor x, SoftmaxOptions o, Tensor out) {
        return softmaxRows("logSoftmax", x, o, out, true);
    }

    private Tensor softmaxRows(String op, Tensor x, SoftmaxOptions o, Tensor out, boolean log) {
        Checks.sameShape(op, x.shape(), out.shape());
        if (x.dim(-1) == 0) {
            return out;
        }
        int cols = x.dim(-1);
        int rowsInMatrix = x.rank() >= 2 ? x.dim(-2) : 1;
        Tensor mask = o.additiveMask() == null ? null : o.additiveMask().expand(x.shape());
        float empty = log ? Float.NEGATIVE_INFINITY : 0f;
        long n = Rows.rowCount(x);
        forRange(n, n * cols * 24, (lo, hi) -> {
            RowCursor xc = new RowCursor(x), oc = new RowCursor(out);
            RowCursor mc = mask == null ? null : new RowCursor(mask);
            float[] z = new float[cols];
            float[] e = log ? new float[cols] : null;
            for (long r = lo; r < hi; r++) {
                long q = r % rowsInMatrix + o.queryOffset();
                int cLo = o.window() > 0 ? (int) Math.max(0, q - o.window() + 1) : 0;
                int cHi = o.causal() ? (int) Math.min(cols, q + 1) : cols;
                oc.beginWrite(r, 0, cols);
                float[] oa = oc.arr;
                int oo = oc.off;
                if (cLo >= cHi) {
                    Arrays.fill(oa, oo, oo + cols, empty);
                    oc.endWrite(r, 0, cols);
                    continue;
                }
                int m = cHi - cLo;
                xc.read(r, cLo, m);
                v.scale(xc.arr, xc.off, o.scale(), z, cLo, m);
                if (o.softcap() > 0) {
                    v.scale(z, cLo, 1f / o.softcap(), z, cLo, m);
                    v.unary(Unary.TANH, z, cLo, z, cLo, m);
                    v.scale(z, cLo, o.softcap(), z, cLo, m);
                }
                if (mc != null) {
                    mc.read(r, cLo, m);
                    v.binary(Binary.ADD, z, cLo, mc.arr, mc.off, z, cLo, m);
                }
                float max = v.max(z, cLo, m);
                if (Float.isNaN(max)) {
                    Arrays.fill(oa, oo, oo + cols, Float.NaN);
                } else if (max == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(oa, oo, oo + cols, empty); // every key masked: a padded row contributes nothing
                } else {
                    Arrays.fill(oa, oo, oo + cLo, empty);
                    Arrays.fill(oa, oo + cHi, oo + cols, empty);
                    if (log) {
                        float sum = v.expShiftSum(z, cLo, max, e, 0, m);
                        v.addScalar(z, cLo, -max, oa, oo + cLo, m);
                        v.addScalar(oa, oo + cLo, (float) -Math.log(sum), oa, oo + cLo, m);
                    } else {
                        float sum = v.expShiftSum(z, cLo, max, oa, oo + cLo, m);
                        v.scale(oa, oo + cLo, 1f / sum, oa, oo + cLo, m);
                    }
                }
                oc.endWrite(r, 0, cols);
            }
        });
        return out;
    }

    @Override
    public Tensor rope(Tensor x, Rope rope, int[] positions, Tensor out) {
        Checks.sameShape("rope", x.shape(), out.shape());
        int hd = rope.headDim();
        int tokens = x.dim(0);
        if (positions.length != tokens) {
            throw new ShapeMismatchException("rope: " + positions.length + " positions for " + tokens
                    + " tokens in " + x.shape());
        }
        long perTokenL = x.size() / Math.max(tokens, 1);
        if (tokens > 0 && perTokenL % hd != 0) {
            throw new ShapeMismatchException("rope: per-token width " + perTokenL + " of " + x.shape()
                    + " is not a multiple of headDim " + hd);
        }
        if (tokens == 0 || perTokenL == 0) {
            return out;
        }
        int perToken = Math.toIntExact(perTokenL);
        int heads = perToken / hd;
        int rot = rope.rotaryDim(), half = rot / 2;
        boolean interleaved = rope.pairing() == Rope.Pairing.INTERLEAVED;
        Tensor x2 = (x.isContiguous() ? x : x.contiguous()).reshape(tokens, perToken);
        Tensor o2 = out.isContiguous() ? out.reshape(tokens, perToken) : Tensor.zeros(tokens, perToken);
        forRange(tokens, (long) tokens * perToken * 4, (lo, hi) -> {
            RowCursor xc = new RowCursor(x2), oc = new RowCursor(o2);
            float[] cos = new float[interleaved ? rot : half], sin = new float[cos.length];
            for (long t = lo; t < hi; t++) {
                int p = positions[(int) t];
                for (int i = 0; i < half; i++) {
                    double ang = (double) p * rope.invFreq(i);
                    float c = (float) Math.cos(ang) * rope.attentionScaling();
                    float s = (float) Math.sin(ang) * rope.attentionScaling();
                    if (interleaved) {
                        cos[2 * i] = c;
                        cos[2 * i + 1] = c;
                        sin[2 * i] = -s;
                        sin[2 * i + 1] = s;
                    } else {
                        cos[i] = c;
                        sin[i] = s;
                    }
                }
                xc.read(t, 0, perToken);
                oc.beginWrite(t, 0, perToken);
                boolean same = xc.arr == oc.arr && xc.off == oc.off;
                for (int h = 0; h < heads; h++) {
                    int xo = xc.off + h * hd, oo = oc.off + h * hd;
                    if (interleaved) {
                        v.rotatePairs(xc.arr, xo, cos, sin, oc.arr, oo, rot);
                    } else {
                        v.rotateHalf(xc.arr, xo, cos, sin, oc.arr, oo, half);
                    }
                    if (!same && rot < hd) {
                        System.arraycopy(xc.arr, xo + rot, oc.arr, oo + rot, hd - rot); // partial rotary
                    }
                }
                oc.endWrite(t, 0, perToken);
            }
        });
        if (o2 != out && !out.isContiguous()) {
            out.copyFrom(o2.reshape(out.shape()));
        }
        return out;
    }

    // ---- reductions ----

    @Override
    public Tensor reduce(Reduction red, Tensor x, int axis, Tensor out) {
        int a = x.shape().axis(axis);
        Shape expected = x.shape().with(a, 1);
        Checks.sameShape("reduce " + red, expected, out.shape());
        Checks.requireFloat("reduce " + red, x);
        int n = x.dim(a);
        if (n == 0 && (red == Reduction.MAX || red == Reduction.ARGMAX)) {
            throw new IllegalArgumentException("reduce " + red + ": axis " + axis + " of " + x.shape() + " is empty");
        }
        int last = x.rank() - 1;
        Tensor xt = a == last ? x : x.transpose(a, last); // reduced axis last; rows then match out's elements
        Tensor ot = a == last ? out : out.transpose(a, last);
        long count = expected.size(); // one output per row of xt, even when the reduced axis is empty
        forRange(count, count * n, (lo, hi) -> {
            RowCursor xc = new RowCursor(xt), oc = new RowCursor(ot);
            for (long r = lo; r < hi; r++) {
                float res;
                if (n == 0) {
                    res = red == Reduction.MEAN ? Float.NaN : 0f;
                } else {
                    xc.read(r, 0, n);
                    res = switch (red) {
                        case SUM -> v.sum(xc.arr, xc.off, n);
                        case MEAN -> (float) ((double) v.sum(xc.arr, xc.off, n) / n);
                        case MAX -> v.max(xc.arr, xc.off, n);
                        case ARGMAX -> v.indexOf(xc.arr, xc.off, v.max(xc.arr, xc.off, n), n);
                        case L2_NORM -> (float) Math.sqrt(v.sumSq(xc.arr, xc.off, n));
                    };
                }
                oc.beginWrite(r, 0, 1);
                oc.arr[oc.off] = res;
                oc.endWrite(r, 0, 1);
            }
        });
        return out;
    }

    // ---- array primitives ----

    @Override
    public float expShiftSum(float[] x, int xOff, float shift, float[] out, int oOff, int n) {
        Checks.range("expShiftSum", "x", x, xOff, n);
        Checks.range("expShiftSum", "out", out, oOff, n);
        return v.expShiftSum(x, xOff, shift, out, oOff, n);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.range("dot", "a", a, aOff, n);
        Checks.range("dot", "b", b, bOff, n);
        return v.dot(a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.range("axpy", "x", x, xOff, n);
        Checks.range("axpy", "y", y, yOff, n);
        v.axpy(alpha, x, xOff, y, yOff, n);
    }

    @Override
    public void dotRows(float[] q, int qOff, float[] k, int kOff, int kStride, int rows, int d, float scale,
                        float[] out, int oOff) {
        Checks.dotRows(q, qOff, k, kOff, kStride, rows, d, out, oOff);
        v.dotRows(q, qOff, k, kOff, kStride, rows, d, scale, out, oOff);
    }

    @Override
    public void addWeightedRows(float[] p, int pOff, float[] vals, int vOff, int vStride, int rows, int d,
                                float[] out, int oOff) {
        Checks.addWeightedRows(p, pOff, vals, vOff, vStride, rows, d, out, oOff);
        v.addWeightedRows(p, pOff, vals, vOff, vStride, rows, d, out, oOff);
    }

    // ---- gather, concat, selection ----

    @Override
    public Tensor embedding(Tensor table, int[] ids, Tensor out) {
        Checks.embedding(table, ids, out);
        int d = table.dim(1);
        if (d == 0) {
            return out;
        }
        float[] od = direct(out);
        if (od != null && table.dtype() == DType.F32 && table.stride(1) == 1) {
            // F32 table in any segment (a mapped checkpoint) into a heap output: one bulk copy per id, no
            // cursors or scratch, so a decode step's lookup allocates nothing.
            int oo = GemmKernel.heapIndex(out);
            for (int i = 0; i < ids.length; i++) {
                long src = table.byteOffset() + (long) ids[i] * table.stride(0) * Float.BYTES;
                MemorySegment.copy(table.segment(), Tensor.F32, src, od, oo + i * d, d);
            }
            return out;
        }
        // Rows are independent bulk copies (F32) or conversions; never worth threads for a handful of ids.
        RowCursor tc = new RowCursor(table), oc = new RowCursor(out);
        for (int i = 0; i < ids.length; i++) {
            tc.read(ids[i], 0, d);
            oc.beginWrite(i, 0, d);
            System.arraycopy(tc.arr, tc.off, oc.arr, oc.off, d);
            oc.endWrite(i, 0, d);
        }
        return out;
    }

    @Override
    public Tensor concat(Tensor[] inputs, int axis, Tensor out) {
        int a = Checks.concat(inputs, axis, out);
        int pos = 0;
        for (Tensor in : inputs) {
            Tensor dst = out.slice(a, pos, pos + in.dim(a));
            pos += in.dim(a);
            if (in.size() == 0) {
                continue;
            }
            if (in.dtype() == out.dtype() && in.isContiguous() && dst.isContiguous()) {
                MemorySegment.copy(in.bytes(), 0, out.segment(), dst.byteOffset(), in.dtype().byteSize(in.size()));
            } else {
                copyRows(in, dst);
            }
        }
        return out;
    }

    // dst = src element-wise (same shape), row by row through cursors.
    private static void copyRows(Tensor src, Tensor dst) {
        int d = width(src);
        RowCursor sc = new RowCursor(src), dc = new RowCursor(dst);
        long n = Rows.rowCount(src);
        for (long r = 0; r < n; r++) {
            sc.read(r, 0, d);
            dc.beginWrite(r, 0, d);
            System.arraycopy(sc.arr, sc.off, dc.arr, dc.off, d);
            dc.endWrite(r, 0, d);
        }
    }

    @Override
    public int topK(Tensor x, int k, float[] values, int[] indices) {
        int m = Checks.topK(x, k, values, indices);
        RowCursor c = new RowCursor(x);
        c.read(0, 0, x.dim(0));
        return Selection.topK(c.arr, c.off, x.dim(0), m, values, indices);
    }

    @Override
    public int topP(Tensor probs, float p, int[] indices) {
        Checks.topP(probs, p, indices);
        RowCursor c = new RowCursor(probs);
        c.read(0, 0, probs.dim(0));
        return Selection.topP(c.arr, c.off, probs.dim(0), p, indices);
    }
}
