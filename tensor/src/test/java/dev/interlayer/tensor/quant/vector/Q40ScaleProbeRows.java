package dev.interlayer.tensor.quant.vector;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.QuantRows;
import java.lang.foreign.MemorySegment;

/**
 * For the by-hand A/B of {@code QuantKernelProbe} in one JVM (not a test): Q4_0 decode (m = 1, off-heap) by the
 * block-scale tiles ({@link Q40ScaleTiles}) whatever {@code dev.interlayer.q4_0.blockscale} says, arranged as
 * {@link TileDriver} arranges them; everything else by {@link QuantVectorRows}. Run the probe with the class
 * names {@code active} and {@code dev.interlayer.tensor.quant.vector.Q40ScaleProbeRows} (switch off) to compare.
 */
public final class Q40ScaleProbeRows implements QuantRows {
    private final QuantVectorRows rest = new QuantVectorRows();
    private final ThreadLocal<float[]> scratch = new ThreadLocal<>();

    /** Used reflectively. */
    public Q40ScaleProbeRows() {
    }

    @Override
    public String name() {
        return "q4_0-blockscale";
    }

    @Override
    public void rows(BlockFormat f, int m, int k, float[] a, int aOff, int lda, MemorySegment w, long wOff,
                     long rowBytes, float[] c, int cOff, int ldc, int j0, int j1) {
        if (f.dtype() != DType.Q4_0 || m != 1 || !w.isNative()) {
            rest.rows(f, m, k, a, aOff, lda, w, wOff, rowBytes, c, cOff, ldc, j0, j1);
            return;
        }
        float[] s = scratch.get();
        if (s == null || s.length < TileDriver.scratch(k)) {
            s = new float[TileDriver.scratch(k)];
            scratch.set(s);
        }
        Q40ScaleTiles.blockSums(k, a, aOff, s, Q40ScaleTiles.SUMS);
        int q = (j1 - j0) / 8;
        long step = q * rowBytes;
        for (int j = j0; j < j0 + q; j++) {
            Q40ScaleTiles.far8(w, wOff + j * rowBytes, step, k, a, aOff, s, c, cOff + j, q);
        }
        for (int j = j0 + 8 * q; j < j1; j++) {
            c[cOff + j] = Q40ScaleTiles.one(w, wOff + j * rowBytes, k, a, aOff, s);
        }
    }
}
