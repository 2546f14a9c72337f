package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.Unary;
import jdk.incubator.vector.*;

/**
 * The unary functions of {@link Vec512} on 512-bit vectors.
 * MASTER COPY: Vec256Unary and Vec128Unary are generated from this file at build time (tensor/src/main/codegen/VecWidths.java).
 */
final class Vec512Unary {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final int L = F.length();
    private static final float SQRT1_2 = (float) Math.sqrt(0.5);
    private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);

    private Vec512Unary() {
    }

    // One loop method per function, dispatched outside the loop. A single loop over a switch of every
    // function let C2's profile from one model's functions (GPT-2: GELU) leave another's (Llama: SiLU) as
    // non-intrinsified calls after recompiling the grown method: 9.6 KB of boxed vectors per decode token.
    static void apply(Unary f, float[] x, int xo, float[] out, int oo, int n) {
        int i = switch (f) {
            case EXP -> exp(x, xo, out, oo, n);
            case LOG -> log(x, xo, out, oo, n);
            case TANH -> tanh(x, xo, out, oo, n);
            case SIGMOID -> sigmoid(x, xo, out, oo, n);
            case SILU -> silu(x, xo, out, oo, n);
            case RELU -> relu(x, xo, out, oo, n);
            case RELU2 -> relu2(x, xo, out, oo, n);
            case GELU_ERF -> geluErf(x, xo, out, oo, n);
            case GELU_TANH -> geluTanh(x, xo, out, oo, n);
            case SOFTPLUS -> softplus(x, xo, out, oo, n);
            case NEG -> neg(x, xo, out, oo, n);
            case SQUARE -> square(x, xo, out, oo, n);
            case SQRT -> sqrt(x, xo, out, oo, n);
            case RSQRT -> rsqrt(x, xo, out, oo, n);
            case ABS -> abs(x, xo, out, oo, n);
        };
        for (; i < n; i++) {
            out[oo + i] = f.apply(x[xo + i]);
        }
    }

    // Each returns the number of elements done (whole vectors); the caller finishes the tail in scalar.

    private static int exp(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.EXP).intoArray(out, oo + i);
        }
        return i;
    }

    private static int log(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.LOG).intoArray(out, oo + i);
        }
        return i;
    }

    private static int tanh(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.TANH).intoArray(out, oo + i);
        }
        return i;
    }

    private static int sigmoid(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector.broadcast(F, 1f).div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(out, oo + i);
        }
        return i;
    }

    private static int silu(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(out, oo + i);
        }
        return i;
    }

    private static int relu(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).max(0f).intoArray(out, oo + i);
        }
        return i;
    }

    private static int relu2(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector r = FloatVector.fromArray(F, x, xo + i).max(0f);
            r.mul(r).intoArray(out, oo + i);
        }
        return i;
    }

    // 0.5·(1 + tanh(u)) = sigmoid(2u): no cancellation for negative x, unlike 1 + tanh(u).
    private static int geluTanh(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector u = v.mul(v).mul(0.044715f).fma(v, v).mul(GELU_C);
            v.div(u.mul(-2f).lanewise(VectorOperators.EXP).add(1f)).intoArray(out, oo + i);
        }
        return i;
    }

    // x·Φ(x) = 0.5·x·erfc(-x/√2), so the left tail keeps its relative accuracy.
    private static int geluErf(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.mul(0.5f).mul(erfc(v.mul(-SQRT1_2))).intoArray(out, oo + i);
        }
        return i;
    }

    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), and exactly x above 20 (PyTorch's threshold).
    private static int softplus(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector r = v.max(0f).add(v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
            r.blend(v, v.compare(VectorOperators.GT, 20f)).intoArray(out, oo + i);
        }
        return i;
    }

    private static int neg(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).neg().intoArray(out, oo + i);
        }
        return i;
    }

    private static int square(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.mul(v).intoArray(out, oo + i);
        }
        return i;
    }

    private static int sqrt(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.SQRT).intoArray(out, oo + i);
        }
        return i;
    }

    private static int rsqrt(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector s = FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.SQRT);
            FloatVector.broadcast(F, 1f).div(s).intoArray(out, oo + i);
        }
        return i;
    }

    private static int abs(float[] x, int xo, float[] out, int oo, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xo + i).abs().intoArray(out, oo + i);
        }
        return i;
    }

    // erfc with relative error < 1.2e-7 (Numerical Recipes erfcc, Chebyshev fit) plus float rounding.
    private static FloatVector erfc(FloatVector z) {
        FloatVector az = z.abs();
        FloatVector t = FloatVector.broadcast(F, 1f).div(az.fma(0.5f, 1f));
        FloatVector p = t.fma(0.17087277f, -0.82215223f);
        p = p.fma(t, FloatVector.broadcast(F, 1.48851587f));
        p = p.fma(t, FloatVector.broadcast(F, -1.13520398f));
        p = p.fma(t, FloatVector.broadcast(F, 0.27886807f));
        p = p.fma(t, FloatVector.broadcast(F, -0.18628806f));
        p = p.fma(t, FloatVector.broadcast(F, 0.09678418f));
        p = p.fma(t, FloatVector.broadcast(F, 0.37409196f));
        p = p.fma(t, FloatVector.broadcast(F, 1.00002368f));
        p = p.fma(t, FloatVector.broadcast(F, -1.26551223f));
        FloatVector r = t.mul(az.neg().fma(az, p).lanewise(VectorOperators.EXP));
        return r.blend(FloatVector.broadcast(F, 2f).sub(r), z.compare(VectorOperators.LT, 0f));
    }
}
