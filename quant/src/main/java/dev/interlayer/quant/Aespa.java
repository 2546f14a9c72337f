package dev.interlayer.quant;

/**
 * aespa's rounding step (Kim et al., "Towards Next-Level Post-Training Quantization of Hyper-Scale
 * Transformers", NeurIPS 2024): start from GPTQ's updated weights {@code W_u} (its grids and column updates with
 * the layer Hessian H), then learn, per weight, whether to round down or up by AdaRound on the attention-aware
 * objective {@code tr(G·E·H·Eᵀ)} of each head ({@code E = Ŵ − W}, {@code G} = the head's row factor from
 * {@link HeadStatistics}, or the identity for layers without one):
 * {@code Ŵ = s·(clamp(floor(W_u/s) + h(V) + z, 0, maxq) − z)}, {@code h(V) = clamp(1.2·σ(V) − 0.1, 0, 1)},
 * {@code V} initialised so that {@code h(V) = frac(W_u/s)}, loss {@code tr(G·E·H·Eᵀ) + λ·Σ(1 − |2h(V) − 1|^β)} with
 * the regulariser off for the first {@code warmup} fraction of the iterations and {@code β} decaying linearly
 * from {@code betaStart} to {@code betaEnd} after it; Adam on V with the hand-derived gradient
 * {@code ∂/∂Ŵ = 2·G·E·H}. Final codes: {@code floor(W_u/s) + [V ≥ 0] + z}, clamped: never more than one step
 * from the GPTQ-updated weight. Grids are GPTQ's (per row or per dynamic group); cost per iteration {@code O(d_h·d²)} per head,
 * independent of the number of calibration tokens.
 */
public final class Aespa {
    private Aespa() {
    }

    /**
     * AdaRound settings (aespa's defaults: 2000 Adam steps at 0.015, λ = 1.5 for q/k/v and 1.0 otherwise,
     * regulariser from 20 %, β 20 → 2).
     */
    public record Options(int iterations, double lr, double lambda, double warmup, double betaStart, double betaEnd) {
        /** The defaults for query/key/value projections. */
        public static final Options QKV = new Options(2000, 0.015, 1.5, 0.2, 20, 2);

        public Options {
            if (iterations < 0 || !(lr > 0) || !(lambda >= 0) || !(warmup >= 0 && warmup <= 1)) {
                throw new IllegalArgumentException("Aespa.Options: need iterations >= 0, lr > 0, lambda >= 0, 0 <= warmup <= 1");
            }
        }

        /** With another iteration count. */
        public Options withIterations(int n) {
            return new Options(n, lr, lambda, warmup, betaStart, betaEnd);
        }
    }

    /**
     * Quantizes {@code w [heads·headDim, cols]} with layer Hessian {@code h [cols, cols]} and row factors
     * {@code g[head] [headDim, headDim]} (null: the identity, i.e. the layer-wise objective). Grids are GPTQ's:
     * per row, or per group of {@code scheme.groupSize()} columns fitted as GPTQ reaches them (dynamic groups, no
     * act-order), on any {@link GridKind}. Nothing passed in is modified.
     *
     * @throws IllegalArgumentException on mismatched shapes
     */
    public static QuantizedLinear quantize(float[] w, int heads, int headDim, int cols, double[] h, double[][] g,
                                           QuantScheme scheme, Options opt) {
        int rows = heads * headDim;
        Shapes.checkMatrix("Aespa.quantize", w.length, rows, cols);
        if (g != null && (g.length != heads || java.util.Arrays.stream(g).anyMatch(x -> x.length != headDim * headDim))) {
            throw new IllegalArgumentException("Aespa.quantize: need " + heads + " row factors [" + headDim + ", " + headDim + "]");
        }
        Gptq.Result init = Gptq.quantize(w, rows, cols, h, scheme, GptqOptions.DEFAULT);
        QuantizedLinear q = init.weights();
        byte[] codes = q.codes().clone();
        int qmin = scheme.kind().minCode(), maxq = scheme.maxq();
        for (int head = 0; head < heads; head++) {
            Head hs = new Head(w, q, init.updated(), head * headDim, headDim, cols, h, g == null ? null : g[head]);
            hs.optimise(opt, qmin, maxq);
            for (int i = 0; i < headDim * cols; i++) {
                int r = head * headDim + i / cols;
                double code = hs.base[i] + (hs.v[i] >= 0 ? 1 : 0) + hs.zero[i];
                codes[r * cols + i % cols] = (byte) Math.max(qmin, Math.min(maxq, code));
            }
        }
        return new QuantizedLinear(rows, cols, scheme, codes, q.scales(), q.zeros(), null);
    }

    /**
     * One head's AdaRound state: {@code base = floor(x)} with {@code x = W_u/s} (zero-point grids) or
     * {@code (W_u − m)/s} (offset grids), the rounding logits V and Adam moments; per weight its group's scale,
     * zero point and offset, so that {@code Ŵ = s·(clamp(base + h(V) + zero) − zero) + offset}.
     */
    private static final class Head {
        final int r0, hd, cols;
        final double[] w, base, v, scale, zero, offset, h, g;
        final double[] m, s2;

        Head(float[] wf, QuantizedLinear q, double[] updated, int r0, int hd, int cols, double[] h, double[] g) {
            this.r0 = r0;
            this.hd = hd;
            this.cols = cols;
            this.h = h;
            this.g = g;
            int n = hd * cols;
            w = new double[n];
            base = new double[n];
            v = new double[n];
            m = new double[n];
            s2 = new double[n];
            scale = new double[n];
            zero = new double[n];
            offset = new double[n];
            boolean offsets = q.scheme().kind().storesOffset();
            for (int i = 0; i < n; i++) {
                int r = i / cols, c = i % cols, k = (r0 + r) * q.groups() + q.group(c);
                scale[i] = q.scales()[k];
                zero[i] = offsets ? 0 : q.zeros()[k];
                offset[i] = offsets ? q.zeros()[k] : 0;
                w[i] = wf[(r0 + r) * cols + c];
                double x = (updated[(r0 + r) * cols + c] - offset[i]) / scale[i];
                base[i] = Math.floor(x);
                double p = (x - base[i] + 0.1) / 1.2;       // h(V) = frac ⇔ σ(V) = (frac + 0.1)/1.2
                v[i] = Math.log(p / (1 - p));
            }
        }

        void optimise(Options opt, int qmin, int maxq) {
            int n = hd * cols;
            double[] e = new double[n], eh = new double[n], grad = new double[n];
            double b1 = 0.9, b2 = 0.999, eps = 1e-8;
            int start = (int) (opt.warmup() * opt.iterations());
            for (int t = 1; t <= opt.iterations(); t++) {
                for (int i = 0; i < n; i++) {                  // E = Ŵ − W
                    double inner = base[i] + rect(v[i]) + zero[i];
                    e[i] = scale[i] * (Math.max(qmin, Math.min(maxq, inner)) - zero[i]) + offset[i] - w[i];
                }
                // EH = E·H and ∂/∂Ŵ = 2·G·EH as register-tiled float64 products (the O(hd·cols²) step of each iteration)
                java.util.Arrays.fill(eh, 0);
                DoubleGemm.multiplyAdd(hd, cols, cols, 1.0, e, 0, cols, 1, h, 0, cols, eh, 0, cols);
                java.util.Arrays.fill(grad, 0);
                if (g == null) {
                    for (int i = 0; i < n; i++) {
                        grad[i] = 2 * eh[i];
                    }
                } else {
                    DoubleGemm.multiplyAdd(hd, cols, hd, 2.0, g, 0, hd, 1, eh, 0, cols, grad, 0, cols);
                }
                boolean reg = t >= start && opt.lambda() > 0;
                double beta = t < start ? opt.betaStart()
                        : opt.betaEnd() + (opt.betaStart() - opt.betaEnd())
                          * Math.max(0, 1 - (double) (t - start) / (opt.iterations() - start));
                for (int i = 0; i < n; i++) {
                    double sig = 1 / (1 + Math.exp(-v[i]));
                    double hv = 1.2 * sig - 0.1;
                    double dh = hv >= 0 && hv <= 1 ? 1.2 * sig * (1 - sig) : 0;
                    double inner = base[i] + Math.max(0, Math.min(1, hv)) + zero[i];
                    double gi = inner >= qmin && inner <= maxq ? grad[i] * scale[i] * dh : 0;
                    if (reg) {                                 // d/dV λ(1 − |2h − 1|^β)
                        double u = 2 * Math.max(0, Math.min(1, hv)) - 1;
                        gi += -opt.lambda() * beta * Math.pow(Math.abs(u), beta - 1) * Math.signum(u) * 2 * dh;
                    }
                    m[i] += (1 - b1) * (gi - m[i]);            // torch Adam: lerp, then addcmul
                    s2[i] = s2[i] * b2 + (1 - b2) * gi * gi;
                    double denom = Math.sqrt(s2[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
                    v[i] -= opt.lr() / (1 - Math.pow(b1, t)) * m[i] / denom;
                }
            }
        }

        private static double rect(double v) {
            return Math.max(0, Math.min(1, 1.2 / (1 + Math.exp(-v)) - 0.1));
        }
    }
}
