package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.kernel.Checks;

import static dev.interlayer.tensor.simd.SimdDrivers.*;

/** Rotary position embedding of {@link SimdKernels} (half-split and interleaved pairs, partial rotary dims). */
final class SimdRope {
    private final VecOps v;

    SimdRope(VecOps v) {
        this.v = v;
    }

    Tensor rope(Tensor x, Rope rope, int[] positions, Tensor out) {
        int hd = rope.headDim();
        int tokens = x.dim(0);
        long perTokenL = Checks.rope(x, hd, positions, out);
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
}
