package dev.interlayer.models.quantize;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.tensor.Rope;
import dev.interlayer.quant.HeadStatistics;

/**
 * The per-head row factors of the attention-aware objectives of BoA (Kim et al., ICML 2025) and aespa (Kim et al.,
 * NeurIPS 2024), from one layer's attention-input calibration rows: queries {@code q = W_Q x} and keys
 * {@code k = W_K x} are recomputed from the rows, rotated by RoPE at their position in the calibration window, and
 * accumulated per head in {@link HeadStatistics}; the factor of a query head is its key head's key moment mapped to
 * weight space, that of a key head the mean of its query heads' query moments (GQA). Each factor is divided by its
 * mean diagonal, so it weighs the head's rows without changing the loss's overall scale (aespa balances the loss
 * against its rounding regulariser). Projection biases and QK norms are not applied (an approximation for the
 * families that have them).
 */
final class HeadFactors {
    private final AttentionConfig ac;
    private final float[] wq, wk;
    private final int dIn, window;
    private final HeadStatistics queries, keys;
    private final HeadStatistics.Rotation rotation;
    private final double[] cos, sin;
    private long seen;

    /**
     * @param wq     [heads·headDim, dIn] query weights
     * @param wk     [kvHeads·headDim, dIn] key weights
     * @param window calibration window: row g of the stream sits at position g mod window
     */
    HeadFactors(AttentionConfig ac, float[] wq, float[] wk, int dIn, int window) {
        this.ac = ac;
        this.wq = wq;
        this.wk = wk;
        this.dIn = dIn;
        this.window = window;
        queries = new HeadStatistics(ac.heads(), ac.headDim());
        keys = new HeadStatistics(ac.kvHeads(), ac.headDim());
        if (ac.rope() != null) {
            float[] f = ac.rope().invFreq(ac.headDim(), window);
            double[] inv = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                inv[i] = f[i];
            }
            rotation = new HeadStatistics.Rotation(ac.rope().pairing() == Rope.Pairing.INTERLEAVED, inv);
        } else {
            rotation = null;
        }
        int pairs = rotation == null ? 0 : rotation.invFreq().length;
        cos = new double[pairs];
        sin = new double[pairs];
    }

    /** Adds {@code n} attention-input rows {@code x [n, dIn]}, the next ones of the calibration stream. */
    void accept(float[] x, int n) {
        int[] pos = new int[n];
        for (int t = 0; t < n; t++) {
            pos[t] = (int) ((seen + t) % window);
        }
        seen += n;
        queries.accept(project(x, n, wq, ac.heads(), pos), pos, n, null);
        keys.accept(project(x, n, wk, ac.kvHeads(), pos), pos, n, null);
    }

    /** Row factors of the query projection, one per query head. */
    double[][] forQueries() {
        double[][] out = new double[ac.heads()][];
        int group = ac.heads() / ac.kvHeads();
        for (int h = 0; h < out.length; h++) {
            out[h] = normalised(keys.weightSpace(h / group, rotation));
        }
        return out;
    }

    /** Row factors of the key projection, one per key head. */
    double[][] forKeys() {
        double[][] perQuery = new double[ac.heads()][];
        for (int h = 0; h < perQuery.length; h++) {
            perQuery[h] = queries.weightSpace(h, rotation);
        }
        double[][] out = HeadStatistics.groupMean(perQuery, ac.heads() / ac.kvHeads());
        for (int h = 0; h < out.length; h++) {
            out[h] = normalised(out[h]);
        }
        return out;
    }

    // rotated W·x per row: [n, heads·headDim]
    private float[] project(float[] x, int n, float[] w, int heads, int[] pos) {
        int hd = ac.headDim(), width = heads * hd;
        float[] v = new float[n * width];
        for (int t = 0; t < n; t++) {
            for (int o = 0; o < width; o++) {
                double s = 0;
                for (int j = 0; j < dIn; j++) {
                    s += (double) w[o * dIn + j] * x[t * dIn + j];
                }
                v[t * width + o] = (float) s;
            }
            if (rotation != null) {
                rotate(v, t * width, heads, pos[t]);
            }
        }
        return v;
    }

    // RoPE at position p: (a, b) → (a·cos − b·sin, b·cos + a·sin) for each pair of every head
    private void rotate(float[] v, int off, int heads, int p) {
        int pairs = cos.length, hd = ac.headDim();
        for (int i = 0; i < pairs; i++) {
            double ang = p * rotation.invFreq()[i];
            cos[i] = Math.cos(ang);
            sin[i] = Math.sin(ang);
        }
        for (int h = 0; h < heads; h++) {
            int b0 = off + h * hd;
            for (int i = 0; i < pairs; i++) {
                int xa = b0 + (rotation.interleaved() ? 2 * i : i), xb = b0 + (rotation.interleaved() ? 2 * i + 1 : i + pairs);
                double a = v[xa], b = v[xb];
                v[xa] = (float) (a * cos[i] - b * sin[i]);
                v[xb] = (float) (b * cos[i] + a * sin[i]);
            }
        }
    }

    private static double[] normalised(double[] g) {
        int n = (int) Math.round(Math.sqrt(g.length));
        double tr = 0;
        for (int i = 0; i < n; i++) {
            tr += g[i * n + i];
        }
        double f = tr > 0 ? n / tr : 1;
        double[] o = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            o[i] = g[i] * f;
        }
        return o;
    }
}
