package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.plan.StepHook;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * DenseFormer depth-weighted averaging ("DenseFormer: Enhancing Information Flow in Transformers via Depth
 * Weighted Averaging", Pagliardini et al.), composed around unchanged blocks as a {@link StepHook}. With X_0 the
 * embedding output and X_{i+1} = B_i(Y_i) the raw output of block (step) i:
 * <pre>
 *   package mode:     after block i, if (i+1) mod p = 0:  Y_{i+1} = Σ_{j∈J_i} α_{i,j}·X_j,
 *                     J_i = { j ≤ i+1 : j ≡ i+1 (mod k) } ascending, |J_i| = floor((i+1+k)/k); else Y_{i+1} = X_{i+1}
 *   experiment mode:  groups of p blocks; Z_0 = X_0, Z_r = raw output of the last block of group r;
 *                     after group r: Y = Σ_{q∈Q_r} β_{r,q}·Z_q,  Q_r = { q ≤ r : q ≡ r (mod k) }
 * </pre>
 * Stored representations are raw block outputs, never averages. DWA is position-wise, so the KV caches are
 * unchanged and decode keeps only the current call's rows. Identity weights (1 on the newest entry) give the plain
 * model. Indices follow plan steps (parallel groups count once).
 */
public final class DenseFormer {
    /** Which of the two official implementations (they differ only for period &gt; 1). */
    public enum Mode { PACKAGE, EXPERIMENT }

    private final int steps, period, dilation;
    private final Mode mode;
    private final float[][] weights; // one vector per DWA point, in order

    /**
     * @param steps    number of blocks (plan steps) L
     * @param period   p ≥ 1
     * @param dilation k ≥ 1
     * @param weights  one weight vector per DWA point in order (package: i with (i+1) mod p = 0, length |J_i|;
     *                 experiment: r = 1..L/p, length |Q_r|)
     * @throws IllegalArgumentException if a count or length does not match, or experiment mode has L mod p ≠ 0
     */
    public DenseFormer(int steps, int period, int dilation, Mode mode, float[][] weights) {
        if (steps < 1 || period < 1 || dilation < 1) {
            throw new IllegalArgumentException("DenseFormer: need steps, period, dilation >= 1, got " + steps + ", "
                    + period + ", " + dilation);
        }
        if (mode == Mode.EXPERIMENT && steps % period != 0) {
            throw new IllegalArgumentException("DenseFormer experiment mode needs L mod p = 0, got L = " + steps
                    + ", p = " + period);
        }
        this.steps = steps;
        this.period = period;
        this.dilation = dilation;
        this.mode = mode;
        int[] sizes = sizes(steps, period, dilation, mode);
        if (weights.length != sizes.length) {
            throw new IllegalArgumentException("DenseFormer: " + weights.length + " weight vectors for " + sizes.length
                    + " DWA points");
        }
        for (int i = 0; i < sizes.length; i++) {
            if (weights[i].length != sizes[i]) {
                throw new IllegalArgumentException("DenseFormer: DWA point " + i + " needs " + sizes[i]
                        + " weights, got " + weights[i].length);
            }
        }
        this.weights = weights.clone();
    }

    /** Weight-vector lengths of the DWA points, in order. */
    public static int[] sizes(int steps, int period, int dilation, Mode mode) {
        List<Integer> out = new ArrayList<>();
        if (mode == Mode.PACKAGE) {
            for (int i = 0; i < steps; i++) {
                if ((i + 1) % period == 0) {
                    out.add((i + 1 + dilation) / dilation);
                }
            }
        } else {
            for (int r = 1; r <= steps / period; r++) {
                out.add((r + dilation) / dilation);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Identity weights: 1 on the newest entry, 0 elsewhere (the initialization; equals the plain model). */
    public static DenseFormer identity(int steps, int period, int dilation, Mode mode) {
        int[] sizes = sizes(steps, period, dilation, mode);
        float[][] w = new float[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            w[i] = new float[sizes[i]];
            w[i][sizes[i] - 1] = 1f;
        }
        return new DenseFormer(steps, period, dilation, mode, w);
    }

    /** A hook holding the per-call stored representations (L + 1 rows of [maxTokens, d]); one per session. */
    public StepHook newHook(int maxTokens, int d) {
        RowBuffer[] stored = new RowBuffer[steps + 1];
        for (int j = 0; j < stored.length; j++) {
            stored[j] = new RowBuffer(maxTokens, d);
        }
        int[] block = {0};
        return (step, x, positions) -> {
            int t = x.dim(0);
            if (step == -1) {
                block[0] = 0;
                stored[0].rows(t).copyFrom(x);
                return;
            }
            int i = block[0]++;
            if (i >= steps) {
                throw new IllegalStateException("DenseFormer configured for " + steps + " steps, hook called for more");
            }
            int next = i + 1;
            if (mode == Mode.PACKAGE) {
                stored[next].rows(t).copyFrom(x);
                if (next % period == 0) {
                    mix(weights[next / period - 1], stored, next % dilation, x);
                }
            } else if (next % period == 0) {
                int r = next / period;
                stored[r].rows(t).copyFrom(x);
                mix(weights[r - 1], stored, r % dilation, x);
            }
        };
    }

    // x = Σ_n w[n]·stored[first + n·k]
    private void mix(float[] w, RowBuffer[] stored, int first, Tensor x) {
        int t = x.dim(0);
        for (int n = 0; n < w.length; n++) {
            Tensor src = stored[first + n * dilation].rows(t);
            if (n == 0) {
                Ops.scale(src, w[0], x);
            } else {
                Ops.axpy(w[n], src, x);
            }
        }
    }
}
