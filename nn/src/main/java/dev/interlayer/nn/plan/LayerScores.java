package dev.interlayer.nn.plan;

import dev.interlayer.nn.DecoderStack;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Calibration scores that choose which layers or sublayers to drop.
 *
 * <ul>
 * <li>Angular distance ("The Unreasonable Ineffectiveness of the Deeper Layers", Gromov et al.):
 *     d(a, b) = arccos(a·b / (‖a‖‖b‖)) / π at the last token of each sample; D_n(ℓ) = mean over samples of
 *     d(x_ℓ, x_{ℓ+n}) for ℓ ∈ [0, L−n]; prune layers ℓ*, …, ℓ*+n−1 with ℓ* = argmin D_n.</li>
 * <li>Block influence (ShortGPT): BI_ℓ = 1 − mean over all tokens of cos(x_ℓ, x_{ℓ+1}).</li>
 * <li>Sublayer importance ("What Matters in Transformers? Not All Attention is Needed", He et al.):
 *     1 − mean over all tokens of cos(X, Y) with X the stream entering the sublayer and Y = X + F(N(X)) the
 *     stream leaving it; drop the sublayers with the lowest importance.</li>
 * </ul>
 * x_ℓ is the residual stream entering layer ℓ (x_0 = embedding output, x_L = last block output, before the final
 * norm). Sublayer streams come from running each sequential block as its attention step then its FFN step.
 */
public final class LayerScores {
    /** Streams of one sample: x[ℓ] = stream entering layer ℓ (ℓ = 0..L), h[ℓ] = stream after layer ℓ's attention. */
    public record Streams(float[][] x, float[][] h, int tokens, int hidden) {
    }

    private LayerScores() {
    }

    /**
     * Runs one sample (one prefill of ≤ 4096 tokens) and records x_0..x_L and, for sequential blocks, the stream
     * between attention and FFN (h[ℓ] is null for a parallel block).
     */
    public static Streams streams(DecoderStack stack, int[] tokens) {
        int layers = stack.layers(), d = stack.blocks().get(0).config().hidden();
        List<Step> steps = new ArrayList<>();
        int[] stepOfH = new int[layers], stepOfX = new int[layers];
        for (int l = 0; l < layers; l++) {
            if (stack.blocks().get(l).config().parallel()) {
                stepOfH[l] = -2;
            } else {
                steps.add(new Step(l, -1, false, true));
                stepOfH[l] = steps.size() - 1;
            }
            steps.add(stepOfH[l] == -2 ? Step.of(l) : new Step(l, -1, true, false));
            stepOfX[l] = steps.size() - 1;
        }
        PlannedStack ps = new PlannedStack(stack, new ExecutionPlan(steps));
        PlanSession s = ps.newSession(Math.min(tokens.length, stack.contextLength()), tokens.length);
        float[][] x = new float[layers + 1][], h = new float[layers][];
        s.setHook((step, stream, positions) -> {
            if (step == -1) {
                x[0] = stream.toFloatArray();
                return;
            }
            for (int l = 0; l < layers; l++) {
                if (stepOfH[l] == step) {
                    h[l] = stream.toFloatArray();
                } else if (stepOfX[l] == step) {
                    x[l + 1] = stream.toFloatArray();
                }
            }
        });
        ps.forward(tokens, s);
        return new Streams(x, h, tokens.length, d);
    }

    /** Angular distance d(a, b) = arccos(cos(a, b)) / π between rows ra of a and rb of b (width d), in [0, 1]. */
    public static double angular(float[] a, int ra, float[] b, int rb, int d) {
        return Math.acos(Math.max(-1, Math.min(1, cos(a, ra, b, rb, d)))) / Math.PI;
    }

    static double cos(float[] a, int ra, float[] b, int rb, int d) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < d; i++) {
            double u = a[ra * d + i], v = b[rb * d + i];
            ab += u * v;
            aa += u * u;
            bb += v * v;
        }
        return ab / Math.sqrt(aa * bb);
    }

    /** D_n(ℓ) for ℓ = 0..L−n: mean over samples of d(x_ℓ, x_{ℓ+n}) at each sample's last token. */
    public static double[] angularDistances(List<Streams> samples, int n) {
        int layers = samples.get(0).x().length - 1;
        if (n < 1 || n > layers) {
            throw new IllegalArgumentException("block size n = " + n + " outside [1, " + layers + "]");
        }
        double[] out = new double[layers - n + 1];
        for (Streams s : samples) {
            int last = s.tokens() - 1;
            for (int l = 0; l < out.length; l++) {
                out[l] += angular(s.x()[l], last, s.x()[l + n], last, s.hidden()) / samples.size();
            }
        }
        return out;
    }

    /** ℓ* = argmin_ℓ D_n(ℓ): the first layer of the n-layer block whose removal changes the stream least. */
    public static int bestBlockStart(double[] distances) {
        return IntStream.range(0, distances.length).boxed().min(Comparator.comparingDouble(i -> distances[i]))
                .orElseThrow();
    }

    /** BI_ℓ = 1 − mean over all tokens of all samples of cos(x_ℓ, x_{ℓ+1}). */
    public static double[] blockInfluence(List<Streams> samples) {
        int layers = samples.get(0).x().length - 1;
        double[] out = new double[layers];
        for (int l = 0; l < layers; l++) {
            final int ll = l;
            out[l] = 1 - meanCos(samples, s -> s.x()[ll], s -> s.x()[ll + 1]);
        }
        return out;
    }

    /** Attention importance per layer: 1 − mean cos(x_ℓ, h_ℓ) (NaN for a parallel block). */
    public static double[] attentionImportance(List<Streams> samples) {
        return sublayerImportance(samples, true);
    }

    /** MLP importance per layer: 1 − mean cos(h_ℓ, x_{ℓ+1}) (NaN for a parallel block). */
    public static double[] mlpImportance(List<Streams> samples) {
        return sublayerImportance(samples, false);
    }

    private static double[] sublayerImportance(List<Streams> samples, boolean attention) {
        int layers = samples.get(0).h().length;
        double[] out = new double[layers];
        for (int l = 0; l < layers; l++) {
            final int ll = l;
            out[l] = samples.get(0).h()[l] == null ? Double.NaN : attention
                    ? 1 - meanCos(samples, s -> s.x()[ll], s -> s.h()[ll])
                    : 1 - meanCos(samples, s -> s.h()[ll], s -> s.x()[ll + 1]);
        }
        return out;
    }

    /** The k indices with the lowest scores (NaN last), ascending by score: what one-shot dropping removes. */
    public static int[] lowest(double[] scores, int k) {
        Integer[] idx = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(idx, Comparator.comparingDouble(i -> Double.isNaN(scores[i]) ? Double.MAX_VALUE : scores[i]));
        return Arrays.stream(idx, 0, Math.min(k, idx.length)).mapToInt(Integer::intValue).toArray();
    }

    private static double meanCos(List<Streams> samples, java.util.function.Function<Streams, float[]> a,
                                  java.util.function.Function<Streams, float[]> b) {
        double sum = 0;
        int n = 0;
        for (Streams s : samples) {
            for (int t = 0; t < s.tokens(); t++) {
                sum += cos(a.apply(s), t, b.apply(s), t, s.hidden());
                n++;
            }
        }
        return sum / n;
    }
}
