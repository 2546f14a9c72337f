package dev.interlayer.quant;

import java.util.List;

/**
 * AWQ's scale objective for linears that read one input but see different tokens of it, as the experts of a
 * mixture-of-experts layer (each sees the rows the router sends it) that share one input scale folded into the norm
 * before the router.
 */
public final class AwqRouted {
    private AwqRouted() {
    }

    /**
     * {@code Σ_l n_l·tr((W_l − Ŵ_l)·H_l·(W_l − Ŵ_l)ᵀ) / (2·Σ_l n_l·rows_l)}, {@code Ŵ_l = dequant(q_l)·diag(s)⁻¹}, with
     * {@code H_l = 2·X_lᵀX_l/n_l} the Hessian of linear l's {@code n_l} input rows ({@code hs.get(l) [d, d]},
     * {@code tokens[l] = n_l}): the sum of squared output errors over every linear's own rows, per output value. With
     * every {@code H_l} equal it is {@link Awq#outputError(List, int[], double[])}.
     *
     * @throws IllegalArgumentException if the lists and arrays differ in length
     */
    public static Awq.Objective outputError(List<float[]> ws, int[] rows, List<double[]> hs, double[] tokens) {
        if (ws.size() != rows.length || hs.size() != rows.length || tokens.length != rows.length) {
            throw new IllegalArgumentException("AwqRouted.outputError: need one row count, Hessian and token count per"
                    + " weight; got " + ws.size() + " weights, " + rows.length + " row counts, " + hs.size()
                    + " Hessians, " + tokens.length + " token counts");
        }
        double norm = 0;
        for (int l = 0; l < rows.length; l++) {
            norm += 2.0 * tokens[l] * rows[l];
        }
        double n = norm;
        return (s, scaled) -> {
            double loss = 0;
            for (int l = 0; l < ws.size(); l++) {
                loss += tokens[l] * Awq.unscaledError(ws.get(l), scaled.get(l), s, hs.get(l));
            }
            return n == 0 ? 0 : loss / n;
        };
    }
}
