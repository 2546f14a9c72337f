package dev.interlayer.nn.moe;

import java.util.Arrays;

/**
 * The test-time mixture of DEMix layers (Gururangan et al. 2022, "DEMix Layers: Disentangling Domains for
 * Modular Language Modeling"): a model with one expert per training domain in every DEMix layer is run as
 * D expert paths (path j = shared weights + expert j everywhere), and their next-token distributions are
 * mixed, p(x_t | x_&lt;t) = Σ_j w_{t,j}·p_j(x_t | x_&lt;t), with weights from a posterior over domains.
 * Following the reference scorer, only the previous token's likelihood enters the posterior:
 * <pre>
 *   t = 0:  w_0 = prior
 *   t &gt; 0:  w_{t,j} = prior_j·p_j(x_{t−1}) / Σ_i prior_i·p_i(x_{t−1})
 *   UPDATING_PRIOR: after each position t &gt; 0, prior ← (1 − λ)·prior + λ·w_t   (exponential moving average)
 *   SIMPLE_AVERAGE: w_t = 1/D always
 * </pre>
 * The paths themselves are whole models (D forward passes per token, sharing the tensors of shared layers);
 * this class does the mixing over their per-position log-probabilities. Causal: w_t uses tokens before t.
 *
 * @param numDomains D
 * @param ensemble   how the weights are formed
 * @param prior      prior over domains (sums to 1); uniform for UNIFORM_PRIOR and SIMPLE_AVERAGE
 * @param ema        λ of UPDATING_PRIOR (ignored otherwise)
 */
public record DemixMixture(int numDomains, Ensemble ensemble, double[] prior, double ema) {
    /** The reference's ensemble types. */
    public enum Ensemble {
        /** prior = 1/D, posterior from the previous token. */
        UNIFORM_PRIOR,
        /** a fixed prior estimated once on held-out data, posterior from the previous token. */
        CACHED_PRIOR,
        /** the prior is an EMA of the posteriors seen while scoring. */
        UPDATING_PRIOR,
        /** w = 1/D at every position. */
        SIMPLE_AVERAGE
    }

    /**
     * Validates the prior (null = uniform).
     *
     * @throws IllegalArgumentException if D &lt; 1, the prior has the wrong length, a negative entry or a sum
     *                                  other than 1 (±1e-6), or ema is outside [0, 1]
     */
    public DemixMixture {
        if (numDomains < 1 || ensemble == null) {
            throw new IllegalArgumentException("DemixMixture: numDomains must be >= 1 and ensemble non-null");
        }
        if (prior == null || ensemble == Ensemble.UNIFORM_PRIOR || ensemble == Ensemble.SIMPLE_AVERAGE) {
            prior = new double[numDomains];
            Arrays.fill(prior, 1.0 / numDomains);
        } else {
            prior = prior.clone();
            double sum = 0;
            for (double p : prior) {
                if (!(p >= 0)) {
                    throw new IllegalArgumentException("DemixMixture: prior entries must be >= 0, got "
                            + Arrays.toString(prior));
                }
                sum += p;
            }
            if (prior.length != numDomains || Math.abs(sum - 1) > 1e-6) {
                throw new IllegalArgumentException("DemixMixture: prior needs " + numDomains + " entries summing to 1, "
                        + "got " + Arrays.toString(prior));
            }
        }
        if (!(ema >= 0 && ema <= 1)) {
            throw new IllegalArgumentException("DemixMixture: ema must be in [0, 1], got " + ema);
        }
    }

    /** A copy of the prior. */
    @Override
    public double[] prior() {
        return prior.clone();
    }

    /** Mixing state of one sequence (block): the running prior and the previous token's path likelihoods. */
    public final class State {
        private final double[] current = prior.clone();
        private final double[] weights = new double[numDomains];
        private final double[] previousLik = new double[numDomains];
        private int position;

        /** The weights w_t used by the last {@link #mix} (copy). */
        public double[] weights() {
            return weights.clone();
        }

        /**
         * Mixes the paths' next-token log-probabilities at the current position:
         * out[v] = log Σ_j w_{t,j}·exp(logProbs[j][off + v]) for v &lt; n.
         */
        public void mix(float[][] logProbs, int off, int n, float[] out, int outOff) {
            if (logProbs.length != numDomains) {
                throw new IllegalArgumentException("DemixMixture: " + numDomains + " paths, got " + logProbs.length);
            }
            updateWeights();
            for (int v = 0; v < n; v++) {
                double max = Double.NEGATIVE_INFINITY;
                for (float[] lp : logProbs) {
                    max = Math.max(max, lp[off + v]);
                }
                double sum = 0;
                for (int j = 0; j < numDomains; j++) {
                    sum += weights[j] * Math.exp(logProbs[j][off + v] - max);
                }
                out[outOff + v] = (float) (max + Math.log(sum));
            }
        }

        /**
         * Records the token that occurred at this position (its path log-probabilities feed the next posterior)
         * and moves to the next position.
         */
        public void observe(float[][] logProbs, int off, int token) {
            for (int j = 0; j < numDomains; j++) {
                previousLik[j] = Math.exp(logProbs[j][off + token]);
            }
            if (ensemble == Ensemble.UPDATING_PRIOR && position > 0) {
                for (int j = 0; j < numDomains; j++) {
                    current[j] = (1 - ema) * current[j] + ema * weights[j];
                }
            }
            position++;
        }

        private void updateWeights() {
            if (ensemble == Ensemble.SIMPLE_AVERAGE) {
                Arrays.fill(weights, 1.0 / numDomains);
                return;
            }
            if (position == 0) {
                System.arraycopy(current, 0, weights, 0, numDomains);
                return;
            }
            double sum = 0;
            for (int j = 0; j < numDomains; j++) {
                weights[j] = current[j] * previousLik[j];
                sum += weights[j];
            }
            for (int j = 0; j < numDomains; j++) {
                weights[j] = sum > 0 ? weights[j] / sum : current[j]; // every path gave the token probability 0
            }
        }
    }

    /** A fresh state for a new sequence. */
    public State newState() {
        return new State();
    }
}
