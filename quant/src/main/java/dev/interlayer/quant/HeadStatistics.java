package dev.interlayer.quant;

/**
 * Per-head second moments of attention queries or keys, the row factors of the attention-aware objectives of
 * aespa (Kim et al., NeurIPS 2024) and BoA (Kim et al., ICML 2025). For a query projection the objective is
 * {@code tr(G_Q·ΔW_Q·H·ΔW_Qᵀ)} with {@code G_Q = mean_t R_tᵀ·C_K·R_t}: {@code C_K = (2/N)·Σ_s k_s k_sᵀ} over the
 * head's rotated keys, {@code R_t} the rotary rotation of query position {@code t}; symmetrically for keys with
 * the rotated queries. This class accumulates {@code C = (2/N)·Σ v vᵀ} per head from rotated vectors together
 * with a histogram of their positions, and maps C to weight space with that histogram (in self-attention the
 * queries and keys come from the same tokens, so one histogram serves both). Without RoPE, weight space is C.
 * Padding rows are skipped. Not thread-safe.
 */
public final class HeadStatistics {
    /**
     * A rotary embedding: pair {@code i} (of {@code invFreq.length}) rotates by {@code p·invFreq[i]} at position
     * {@code p}; pairs are {@code (i, i + pairs)} ("rotate_half", HF Llama) or {@code (2i, 2i+1)}
     * (interleaved, GPT-J). Dimensions past the rotated pairs are not rotated (partial rotary).
     */
    public record Rotation(boolean interleaved, double[] invFreq) {
        int partner(int i, int headDim, boolean first) {
            return interleaved ? (first ? 2 * i : 2 * i + 1) : (first ? i : i + invFreq.length);
        }
    }

    private final int heads, hd;
    private final double[][] sum;          // [heads][hd, hd]
    private long count;
    private long[] positions = new long[16];   // histogram of token positions

    /** Empty statistics for {@code heads} heads of width {@code headDim}. */
    public HeadStatistics(int heads, int headDim) {
        if (heads < 1 || headDim < 1) {
            throw new IllegalArgumentException("HeadStatistics: need heads, headDim >= 1, got " + heads + ", " + headDim);
        }
        this.heads = heads;
        this.hd = headDim;
        this.sum = new double[heads][headDim * headDim];
    }

    /** Rows accumulated. */
    public long count() {
        return count;
    }

    /**
     * Adds rotated vectors {@code v [n, heads·headDim]} (head-major inside a row) at token positions
     * {@code pos [n]}, skipping rows with {@code keep != null && !keep[t]}.
     *
     * @throws IllegalArgumentException on short arrays or a negative position
     */
    public void accept(float[] v, int[] pos, int n, boolean[] keep) {
        int w = heads * hd;
        if (n < 0 || v.length < (long) n * w || pos.length < n || (keep != null && keep.length < n)) {
            throw new IllegalArgumentException("HeadStatistics.accept: need v[" + n + ", " + w + "], pos[" + n
                    + "], keep[" + n + "]; got " + v.length + " values, " + pos.length + " positions");
        }
        for (int t = 0; t < n; t++) {
            if (keep != null && !keep[t]) {
                continue;
            }
            if (pos[t] < 0) {
                throw new IllegalArgumentException("HeadStatistics.accept: negative position " + pos[t] + " at row " + t);
            }
            if (pos[t] >= positions.length) {
                positions = java.util.Arrays.copyOf(positions, Math.max(2 * positions.length, pos[t] + 1));
            }
            positions[pos[t]]++;
            for (int h = 0; h < heads; h++) {
                int o = t * w + h * hd;
                double[] s = sum[h];
                for (int a = 0; a < hd; a++) {
                    double va = v[o + a];
                    for (int b = 0; b < hd; b++) {
                        s[a * hd + b] += va * v[o + b];
                    }
                }
            }
            count++;
        }
    }

    /** {@code C_h = (2/N)·Σ v vᵀ} [headDim, headDim] of head {@code h}, as a new array. */
    public double[] covariance(int h) {
        double[] c = sum[h].clone();
        for (int i = 0; i < c.length && count > 0; i++) {
            c[i] *= 2.0 / count;
        }
        return c;
    }

    /**
     * {@code mean_p R_pᵀ·C_h·R_p} over the accumulated positions (weighted by how often each occurred); with
     * {@code rot == null}, {@code C_h}.
     */
    public double[] weightSpace(int h, Rotation rot) {
        double[] c = covariance(h);
        if (rot == null || count == 0) {
            return c;
        }
        if (2 * rot.invFreq().length > hd) {
            throw new IllegalArgumentException("HeadStatistics: " + rot.invFreq().length + " rotary pairs exceed head width " + hd);
        }
        double[] out = new double[hd * hd];
        double[] r = new double[hd * hd];
        for (int p = 0; p < positions.length; p++) {
            if (positions[p] == 0) {
                continue;
            }
            rotation(rot, p, r);
            double wgt = (double) positions[p] / count;
            // (Rᵀ C R)[a][b] = Σ_i Σ_j R[i][a]·C[i][j]·R[j][b]; R has at most two non-zeros per column.
            for (int a = 0; a < hd; a++) {
                for (int b = 0; b < hd; b++) {
                    double s = 0;
                    for (int i : support(rot, a)) {
                        for (int j : support(rot, b)) {
                            s += r[i * hd + a] * c[i * hd + j] * r[j * hd + b];
                        }
                    }
                    out[a * hd + b] += wgt * s;
                }
            }
        }
        return out;
    }

    // The rows i where column a of R can be non-zero: a itself and its rotary partner.
    private int[] support(Rotation rot, int a) {
        int pairs = rot.invFreq().length;
        for (int i = 0; i < pairs; i++) {
            int x = rot.partner(i, hd, true), y = rot.partner(i, hd, false);
            if (a == x || a == y) {
                return new int[] {x, y};
            }
        }
        return new int[] {a};
    }

    // R [hd, hd] of position p: rot = R·x with rot[x] = x·cos − y·sin, rot[y] = y·cos + x·sin per pair (x, y).
    static void rotation(Rotation rot, int p, double[] r) {
        int hd = (int) Math.round(Math.sqrt(r.length));
        java.util.Arrays.fill(r, 0);
        for (int i = 0; i < hd; i++) {
            r[i * hd + i] = 1;
        }
        for (int i = 0; i < rot.invFreq().length; i++) {
            int x = rot.partner(i, hd, true), y = rot.partner(i, hd, false);
            double ang = p * rot.invFreq()[i], cos = Math.cos(ang), sin = Math.sin(ang);
            r[x * hd + x] = cos;
            r[x * hd + y] = -sin;
            r[y * hd + y] = cos;
            r[y * hd + x] = sin;
        }
    }

    /**
     * GQA: the mean of each run of {@code group} consecutive heads' matrices (query heads → their key/value
     * head: the row factor of a key projection averages its query heads).
     */
    public static double[][] groupMean(double[][] perHead, int group) {
        if (group < 1 || perHead.length % group != 0) {
            throw new IllegalArgumentException("HeadStatistics.groupMean: " + perHead.length + " heads not divisible by group " + group);
        }
        double[][] out = new double[perHead.length / group][];
        for (int g = 0; g < out.length; g++) {
            out[g] = new double[perHead[g * group].length];
            for (int k = 0; k < group; k++) {
                for (int i = 0; i < out[g].length; i++) {
                    out[g][i] += perHead[g * group + k][i] / group;
                }
            }
        }
        return out;
    }
}
