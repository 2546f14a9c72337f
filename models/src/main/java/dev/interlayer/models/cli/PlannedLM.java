package dev.interlayer.models.cli;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.nn.KvType;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.nn.plan.PlanSession;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;

// A decoder stack run through an execution plan, seen as a CausalLM so that Generator (sampling, stop strings,
// streaming) drives it unchanged: logits = Head(PlannedStack.forward(tokens)) at the last position.
record PlannedLM(PlannedStack stack, OutputHead head, int contextLength, KvType kvType) implements CausalLM {
    private static final int CHUNK = 128;

    // plan sessions with F32 KV caches
    PlannedLM(PlannedStack stack, OutputHead head, int contextLength) {
        this(stack, head, contextLength, KvType.F32);
    }

    @Override
    public int vocabSize() {
        return head.vocab();
    }

    @Override
    public Session newSession(int maxTokens) {
        if (maxTokens < 1 || maxTokens > contextLength) {
            throw new IllegalArgumentException("session of " + maxTokens + " positions: need 1 <= positions <= the"
                    + " model's context length " + contextLength);
        }
        return new PlanLmSession(this, stack.newSession(maxTokens, Math.min(CHUNK, maxTokens), kvType), maxTokens);
    }

    // One sequence: the plan session (one KV cache per attention-running step) and a logits row.
    private static final class PlanLmSession extends LogitsSession {
        private final PlannedLM lm;
        private final PlanSession s;

        PlanLmSession(PlannedLM lm, PlanSession s, int capacity) {
            super(capacity, lm.vocabSize());
            this.lm = lm;
            this.s = s;
        }

        @Override
        public int position() {
            return s.position();
        }

        @Override
        protected void forwardLast(int[] tokens, int off, int len) {
            Tensor h = null;
            if (len == 1) {
                h = lm.stack.decode(tokens[off], s);     // no allocation per decoded token
            } else {
                for (int done = 0; done < len; done += s.maxTokens()) {
                    h = lm.stack.forward(Arrays.copyOfRange(tokens, off + done,
                            off + Math.min(len, done + s.maxTokens())), s);
                }
            }
            lm.head.logits(h.dim(0) == 1 ? h : h.slice(0, h.dim(0) - 1, h.dim(0)), logitsRow());
        }

        @Override
        protected void forwardAll(int[] tokens, int off, int len, float[] out) {
            int v = lm.vocabSize();
            for (int done = 0; done < len; done += s.maxTokens()) {
                int t = Math.min(s.maxTokens(), len - done);
                Tensor h = lm.stack.forward(Arrays.copyOfRange(tokens, off + done, off + done + t), s);
                lm.head.logits(h, Tensor.wrap(out, Shape.of(len, v)).slice(0, done, done + t));
            }
        }

        @Override
        public void reset() {
            s.truncate(0);
        }

        @Override
        public void truncate(int position) {
            s.truncate(position);
        }
    }
}
