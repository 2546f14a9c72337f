package dev.interlayer.nn.readout;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.nn.plan.PlanSession;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.Step;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Activation patching (causal tracing, Meng et al. "Locating and Editing Factual Associations in GPT"; Vig et al.
 * "Causal Mediation Analysis"): run a clean and a corrupted prompt of equal length, then re-run the corrupted one
 * with one activation replaced by its clean value and record a metric of the final logits.
 * <pre>
 *   residual:  values[ℓ][p] = metric( run(corrupt | x_ℓ[p] ← x_ℓ^clean[p]) )      ℓ = 0..S (taps), p = 0..T−1
 *   per head:  values[ℓ][h] = metric( run(corrupt | o_{ℓ,h}[:] ← o_{ℓ,h}^clean[:]) )  o = head output before W_o
 * </pre>
 * Per-head patching adds W_o,h·(o^clean − o^corrupt) to the stream after layer ℓ's attention, which equals
 * replacing the head output when the attention output enters the residual linearly (PRE or NONE placement,
 * sequential blocks); other placements are rejected.
 */
public final class ActivationPatching {
    private ActivationPatching() {
    }

    /** A scalar of the final logits [T, V]. */
    @FunctionalInterface
    public interface Metric {
        double of(Tensor logits);

        /** logits[T−1, target] − logits[T−1, foil] (the usual logit difference at the last position). */
        static Metric logitDifference(int target, int foil) {
            return lg -> lg.getFloat(lg.dim(0) - 1, target) - lg.getFloat(lg.dim(0) - 1, foil);
        }
    }

    /** Metric of the clean run, of the corrupted run, and of every patched run. */
    public record Result(double clean, double corrupt, double[][] values) {
    }

    /**
     * Residual-stream patching at every tap and position of a planned stack.
     *
     * @throws IllegalArgumentException if the prompts differ in length
     */
    public static Result residual(PlannedStack ps, OutputHead head, int[] clean, int[] corrupt, Metric metric) {
        requireSameLength(clean, corrupt);
        HiddenStates cleanStates = HiddenStates.collect(ps, clean);
        double cleanMetric = metric.of(logits(ps, head, corrupt.length, clean, null));
        double corruptMetric = metric.of(logits(ps, head, corrupt.length, corrupt, null));
        int taps = cleanStates.size(), t = clean.length;
        double[][] values = new double[taps][t];
        for (int l = 0; l < taps; l++) {
            float[] src = cleanStates.taps().get(l).toFloatArray();
            int tap = l;
            for (int p = 0; p < t; p++) {
                int pos = p;
                int[] seen = {0};
                values[l][p] = metric.of(logits(ps, head, t, corrupt, (step, x, positions) -> {
                    if (seen[0]++ == tap) { // the hook's k-th call sees tap k
                        int d = x.dim(1);
                        for (int j = 0; j < d; j++) {
                            x.setFloat(src[pos * d + j], pos, j);
                        }
                    }
                }));
            }
        }
        return new Result(cleanMetric, corruptMetric, values);
    }

    /**
     * Per-head patching of every attention head of every layer of a stack (identity plan).
     *
     * @throws IllegalArgumentException if the prompts differ in length or a block is parallel or not PRE/NONE
     */
    public static Result heads(DecoderStack stack, OutputHead head, int[] clean, int[] corrupt, Metric metric) {
        requireSameLength(clean, corrupt);
        int layers = stack.layers(), t = clean.length;
        List<Step> steps = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            TransformerBlock b = stack.blocks().get(l);
            NormPlacement p = b.config().placement();
            if (b.config().parallel() || (p != NormPlacement.PRE && p != NormPlacement.NONE)) {
                throw new IllegalArgumentException("per-head patching needs sequential PRE or NONE blocks; layer " + l
                        + " is " + (b.config().parallel() ? "parallel" : p.toString()));
            }
            steps.add(new Step(l, -1, false, true));  // step 2ℓ: attention only
            steps.add(new Step(l, -1, true, false));  // step 2ℓ+1: FFN only
        }
        PlannedStack split = new PlannedStack(stack, new ExecutionPlan(steps));
        Tensor[] cleanHeads = headOutputs(stack, HiddenStates.collect(split, clean));
        Tensor[] corruptHeads = headOutputs(stack, HiddenStates.collect(split, corrupt));
        double[][] values = new double[layers][];
        for (int l = 0; l < layers; l++) {
            TransformerBlock b = stack.blocks().get(l);
            int hq = b.config().attention().heads(), dh = b.config().attention().headDim();
            int qDim = b.config().attention().qDim();
            values[l] = new double[hq];
            for (int h = 0; h < hq; h++) {
                Tensor diff = Tensor.zeros(t, qDim);
                for (int i = 0; i < t; i++) {
                    for (int e = h * dh; e < (h + 1) * dh; e++) {
                        diff.setFloat(cleanHeads[l].getFloat(i, e) - corruptHeads[l].getFloat(i, e), i, e);
                    }
                }
                Tensor delta = Ops.matmulT(diff, b.attention().wo().weight(), Tensor.zeros(t, b.config().hidden()));
                int afterAttention = 2 * l;
                values[l][h] = metric.of(logits(split, head, t, corrupt, (step, x, positions) -> {
                    if (step == afterAttention) {
                        Ops.add(x, delta, x);
                    }
                }));
            }
        }
        return new Result(metric.of(logits(split, head, t, clean, null)), metric.of(logits(split, head, t, corrupt,
                null)), values);
    }

    // per layer ℓ: head outputs o [T, H·dh] of the attention probe on the stream entering layer ℓ
    // (split-plan taps: tap 2ℓ enters layer ℓ)
    private static Tensor[] headOutputs(DecoderStack stack, HiddenStates states) {
        Tensor[] out = new Tensor[stack.layers()];
        for (int l = 0; l < out.length; l++) {
            out[l] = AttentionProbe.ofBlock(stack.blocks().get(l), states.taps().get(2 * l)).heads();
        }
        return out;
    }

    private static Tensor logits(PlannedStack ps, OutputHead head, int t, int[] tokens,
                                 dev.interlayer.nn.plan.StepHook hook) {
        PlanSession s = ps.newSession(t, t);
        s.setHook(hook);
        return head.logits(ps.forward(tokens, s), Tensor.zeros(t, head.vocab()));
    }

    private static void requireSameLength(int[] clean, int[] corrupt) {
        if (clean.length != corrupt.length || clean.length == 0) {
            throw new IllegalArgumentException("activation patching needs clean and corrupted prompts of equal,"
                    + " non-zero length; got " + clean.length + " and " + corrupt.length);
        }
    }
}
