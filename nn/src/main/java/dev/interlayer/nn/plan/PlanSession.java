package dev.interlayer.nn.plan;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.KvType;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.TransformerBlock;
import java.util.List;

/**
 * Per-session state of a {@link PlannedStack}: one KV cache per attention-running step (its slot), each
 * step's block state, and the residual-stream buffers. Each step's cache keeps its own length, so a prefix
 * of the plan can run ahead of the rest (self-speculative drafting) and be rolled back.
 *
 * <p>Memory: slots × rows × kvDim × 2 values of the session's {@link KvType} (rows = contextLength, or
 * window + maxTokens for a sliding-window layer), the same as the fixed loop for the identity plan.
 * Mutable; one thread owns it.
 */
public final class PlanSession {
    final KvCache[] caches;                 // [steps] one-layer cache, or null for a step without attention
    final TransformerBlock.State[] states;  // [steps] block state bound to caches[t], or null without attention
    final FeedForward.Scratch[] ffn;        // [steps] FFN scratch
    final Sublayers sublayers;
    final RowBuffer x;                      // [maxTokens, d] residual stream
    final RowBuffer out;                    // [maxTokens, d] final-norm output
    final RowBuffer groupIn;                // [maxTokens, d] input h of a parallel group
    final RowBuffer groupSum;               // [maxTokens, d] running sum of a parallel group's outputs
    final int[] oneToken = new int[1];
    final int maxTokens;
    final int contextLength;
    StepHook hook;
    int length;                             // tokens embedded so far (the next implicit embedding position)

    PlanSession(List<TransformerBlock> blocks, ExecutionPlan plan, int contextLength, int maxTokens, KvType kvType) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("PlanSession: maxTokens must be >= 1, got " + maxTokens);
        }
        this.contextLength = contextLength;
        this.maxTokens = Math.min(maxTokens, contextLength);
        int n = plan.size(), d = blocks.get(0).config().hidden();
        this.caches = new KvCache[n];
        this.states = new TransformerBlock.State[n];
        this.ffn = new FeedForward.Scratch[n];
        for (int t = 0; t < n; t++) {
            Step st = plan.step(t);
            TransformerBlock b = blocks.get(st.layer());
            if (st.runsAttention()) {
                // a sliding-window layer keeps a ring of window + maxTokens rows, as in DecoderStack (rollbacks
                // of up to maxTokens + 1 entries stay possible, which self-speculative decoding needs)
                kvType.requireHeadDim(st.layer(), b.config().attention().headDim());
                caches[t] = KvCache.withSlidingRings(contextLength, new int[] {b.config().attention().kvDim()},
                        new int[] {b.config().attention().window()}, this.maxTokens, kvType);
                states[t] = b.newState(caches[t], 0, this.maxTokens);
                ffn[t] = states[t].ffn();
            } else {
                ffn[t] = b.ffn().newScratch(this.maxTokens);
            }
        }
        this.sublayers = new Sublayers(this.maxTokens, d);
        this.x = new RowBuffer(this.maxTokens, d);
        this.out = new RowBuffer(this.maxTokens, d);
        this.groupIn = new RowBuffer(this.maxTokens, d);
        this.groupSum = new RowBuffer(this.maxTokens, d);
    }

    /** Tokens embedded so far (the next implicit position of the embedding). */
    public int position() {
        return length;
    }

    /** Number of entries in step t's cache (0 for a step without attention). */
    public int cacheLength(int step) {
        return caches[step] == null ? 0 : caches[step].length();
    }

    /** Step t's KV cache, or null if the step skips attention. */
    public KvCache cache(int step) {
        return caches[step];
    }

    /** Step t's block state (attention state, FFN scratch), or null if the step skips attention. */
    public TransformerBlock.State state(int step) {
        return states[step];
    }

    /** Largest chunk one call may process. */
    public int maxTokens() {
        return maxTokens;
    }

    /** Installs a hook on the residual stream (null = none). */
    public void setHook(StepHook hook) {
        this.hook = hook;
    }

    /**
     * Rolls every step's cache and the embedding position back to {@code newLength} entries (each cache to
     * min(its length, newLength)).
     *
     * @throws IllegalArgumentException unless 0 ≤ newLength ≤ position()
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("PlanSession.truncate to " + newLength + ": must be in [0, " + length
                    + "]");
        }
        for (KvCache c : caches) {
            if (c != null && c.length() > newLength) {
                c.truncate(newLength);
            }
        }
        length = newLength;
    }
}
