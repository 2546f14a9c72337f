package dev.interlayer.nn.plan;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.KvType;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * A decoder stack run through an {@link ExecutionPlan}: x₀ = the stack's embedding (scale, learned positions,
 * embedding norm as in {@link DecoderStack}), then for each step t x ← Block_{π(t)}(x) with only the kept
 * sublayers; a parallel group of steps G computes h' = (1/|G|)·Σ_{j∈G} Block_j(h) from one input h; output
 * N_f(x). The identity plan runs exactly the stack's kernels in the same order as {@link DecoderStack#forward}.
 *
 * <p>Early exit after k steps ("LayerSkip: Enabling Early Exit Inference and Self-Speculative Decoding",
 * Elhoushi et al.): {@link #runSteps} over [0, k) then {@link #finish} (the shared final norm; the shared head
 * is applied by {@link OutputHead}).
 *
 * <p>Shapes: outputs [T, d] views into the session, valid until its next call.
 *
 * @param stack the stack whose embedding, blocks and final norm are used
 * @param plan  the steps to run (every layer index &lt; stack.layers())
 */
public record PlannedStack(DecoderStack stack, ExecutionPlan plan) {
    /** @throws IllegalArgumentException if a step names a layer the stack does not have */
    public PlannedStack {
        if (stack == null || plan == null) {
            throw new IllegalArgumentException("PlannedStack: stack and plan must not be null");
        }
        plan.requireLayers(stack.layers());
    }

    /** Model width d. */
    public int hidden() {
        return stack.blocks().get(0).config().hidden();
    }

    /**
     * A session with per-step caches of {@code contextLength} entries and calls of at most maxTokens tokens.
     *
     * @throws IllegalArgumentException if contextLength is outside [1, stack.contextLength()]
     */
    public PlanSession newSession(int contextLength, int maxTokens) {
        return newSession(contextLength, maxTokens, KvType.F32);
    }

    /**
     * As {@link #newSession(int, int)}, every step's KV cache stored in {@code kvType} (see {@link KvType}).
     *
     * @throws IllegalArgumentException also if kvType is Q8_0 and a layer's head dimension is not a multiple of 32
     */
    public PlanSession newSession(int contextLength, int maxTokens, KvType kvType) {
        if (contextLength < 1 || contextLength > stack.contextLength()) {
            throw new IllegalArgumentException("PlanSession contextLength " + contextLength + " must be in [1, "
                    + stack.contextLength() + "]");
        }
        return new PlanSession(stack.blocks(), plan, contextLength, maxTokens, kvType);
    }

    /** Runs the whole plan on a chunk at the next positions; returns N_f(x) [T, d]. */
    public Tensor forward(int[] tokens, PlanSession s) {
        return forward(tokens, null, s);
    }

    /** Runs the whole plan on a chunk at explicit positions (null = implicit); returns N_f(x) [T, d]. */
    public Tensor forward(int[] tokens, int[] positions, PlanSession s) {
        Tensor x = embed(tokens, positions, s);
        runSteps(0, plan.size(), x, positions, s);
        return finish(x, s);
    }

    /** Decodes one token through the whole plan (no allocation in this class's code). Returns [1, d]. */
    public Tensor decode(int token, PlanSession s) {
        s.oneToken[0] = token;
        return forward(s.oneToken, null, s);
    }

    /**
     * x₀ for a chunk into the session's stream buffer: embedding lookup·scale, learned positions, embedding norm;
     * advances the session's embedding position and calls the hook with step -1.
     *
     * @throws IllegalArgumentException for a chunk outside [1, maxTokens] or a token outside the vocabulary
     * @throws IllegalStateException    if the stack has no embedding or the chunk passes the context length
     */
    public Tensor embed(int[] tokens, int[] positions, PlanSession s) {
        int t = tokens.length;
        checkChunk(t, positions, s);
        Tensor x = Embeddings.x0(stack, tokens, s.length, positions, s.x.rows(t));
        return afterEmbedding(x, positions, s);
    }

    /** As {@link #embed} for a chunk given as embeddings x₀ [T, d] (copied into the session). */
    public Tensor embedInput(Tensor x0, int[] positions, PlanSession s) {
        if (x0.rank() != 2 || x0.dim(1) != hidden()) {
            throw new ShapeMismatchException("PlannedStack.embedInput: x0 must be [T, " + hidden() + "], got "
                    + x0.shape());
        }
        checkChunk(x0.dim(0), positions, s);
        Tensor x = s.x.rows(x0.dim(0));
        Ops.scale(x0, 1f, x);
        Embeddings.finish(stack, s.length, positions, x);
        return afterEmbedding(x, positions, s);
    }

    private Tensor afterEmbedding(Tensor x, int[] positions, PlanSession s) {
        s.length += x.dim(0);
        if (s.hook != null) {
            s.hook.after(-1, x, positions);
        }
        return x;
    }

    private static void checkChunk(int t, int[] positions, PlanSession s) {
        if (t < 1 || t > s.maxTokens) {
            throw new IllegalArgumentException("chunk of " + t + " tokens: must be in [1, maxTokens=" + s.maxTokens
                    + "]");
        }
        if (s.length + t > s.contextLength) {
            throw new IllegalStateException("positions [" + s.length + ", " + (s.length + t)
                    + ") are past the context length " + s.contextLength + " of this plan session");
        }
        if (positions != null && positions.length != t) {
            throw new IllegalArgumentException("positions has " + positions.length + " entries for " + t + " tokens");
        }
    }

    /**
     * Runs steps [from, to) on x [T, d] in place (x may be any [T, d] tensor, e.g. stored hidden states);
     * each step's attention appends T entries to that step's cache. A parallel group must lie entirely inside
     * the range.
     *
     * @throws IllegalArgumentException if the range is outside [0, plan.size()] or cuts a parallel group
     */
    public void runSteps(int from, int to, Tensor x, int[] positions, PlanSession s) {
        if (from < 0 || to > plan.size() || from > to) {
            throw new IllegalArgumentException("runSteps [" + from + ", " + to + ") outside [0, " + plan.size() + "]");
        }
        if ((from > 0 && from < plan.size() && sameGroup(from - 1, from)) || (to > 0 && to < plan.size()
                && sameGroup(to - 1, to))) {
            throw new IllegalArgumentException("runSteps [" + from + ", " + to + ") cuts a parallel group");
        }
        if (x.rank() != 2 || x.dim(1) != hidden() || x.dim(0) > s.maxTokens) {
            throw new ShapeMismatchException("runSteps: x must be [T <= " + s.maxTokens + ", " + hidden() + "], got "
                    + x.shape());
        }
        List<TransformerBlock> blocks = stack.blocks();
        int t = x.dim(0);
        int step = from;
        while (step < to) {
            Step st = plan.step(step);
            if (!st.parallel()) {
                runStep(blocks.get(st.layer()), st, step, x, positions, s);
                step++;
            } else {
                int end = step;
                while (end < to && plan.step(end).group() == st.group()) {
                    end++;
                }
                Tensor h = s.groupIn.rows(t), sum = s.groupSum.rows(t);
                h.copyFrom(x);
                for (int j = step; j < end; j++) {
                    if (j > step) {
                        x.copyFrom(h);
                    }
                    runStep(blocks.get(plan.step(j).layer()), plan.step(j), j, x, positions, s);
                    if (j == step) {
                        sum.copyFrom(x);
                    } else {
                        Ops.add(sum, x, sum);
                    }
                }
                Ops.scale(sum, 1f / (end - step), x);
                step = end;
            }
            if (s.hook != null) {
                s.hook.after(step - 1, x, positions);
            }
        }
    }

    private boolean sameGroup(int a, int b) {
        return plan.step(a).parallel() && plan.step(a).group() == plan.step(b).group();
    }

    private static void runStep(TransformerBlock b, Step st, int step, Tensor x, int[] positions, PlanSession s) {
        if (!st.skipAttn() && !st.skipFfn()) {
            b.forward(x, s.states[step], positions);
        } else {
            s.sublayers.forward(b, x, s.states[step], s.ffn[step], positions, !st.skipAttn(), !st.skipFfn());
        }
        KvCache c = s.caches[step];
        if (c != null) {
            c.advance(x.dim(0));
        }
    }

    /** N_f(x) into the session's output buffer (a copy of x when the stack has no final norm). Returns [T, d]. */
    public Tensor finish(Tensor x, PlanSession s) {
        return stack.finalNorm(x, s.out.rows(x.dim(0)));
    }
}
