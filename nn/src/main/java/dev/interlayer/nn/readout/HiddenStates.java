package dev.interlayer.nn.readout;

import dev.interlayer.nn.plan.PlanSession;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.StepHook;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer residual streams of one prefill, in two conventions.
 *
 * <p>Taps: x_k (k = 0..S) = the stream the next step consumes: x_0 = embedding output, x_k = output of step k−1
 * (the group output for a parallel group, recorded once per group), x_S = last step output before the final norm.
 * HF {@code output_hidden_states}: the same list with the last entry replaced by N_f(x_S) (already normalized, as
 * Llama/Mistral/Qwen/Gemma/GPT-2 return it; do not normalize it again).
 *
 * @param taps x_0..x_S, each [T, d]
 * @param normalizedLast N_f(x_S) [T, d]
 */
public record HiddenStates(List<Tensor> taps, Tensor normalizedLast) {
    /** Runs the tokens as one prefill through a fresh session of the planned stack and records every tap. */
    public static HiddenStates collect(PlannedStack ps, int[] tokens) {
        return collect(ps, tokens, null);
    }

    /**
     * As {@link #collect(PlannedStack, int[])} with a cross-layer mechanism's hook (DenseFormer, hyper-connections)
     * running first, so each tap is the stream the next step consumes.
     */
    public static HiddenStates collect(PlannedStack ps, int[] tokens, StepHook mechanism) {
        PlanSession s = ps.newSession(tokens.length, tokens.length);
        List<Tensor> taps = new ArrayList<>();
        StepHook record = (step, x, positions) -> taps.add(Tensor.wrap(x.toFloatArray(), Shape.of(x.dim(0),
                x.dim(1))));
        s.setHook(mechanism == null ? record : mechanism.andThen(record));
        Tensor out = ps.forward(tokens, s);
        return new HiddenStates(List.copyOf(taps), Tensor.wrap(out.toFloatArray(), Shape.of(out.dim(0), out.dim(1))));
    }

    /** Number of taps (steps + 1 for a plan without parallel groups; L + 1 for the identity plan). */
    public int size() {
        return taps.size();
    }

    /** The HF {@code hidden_states} tuple: taps 0..S−1, then N_f(x_S). */
    public List<Tensor> huggingFace() {
        List<Tensor> out = new ArrayList<>(taps.subList(0, taps.size() - 1));
        out.add(normalizedLast);
        return out;
    }
}
