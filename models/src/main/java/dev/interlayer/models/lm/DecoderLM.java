package dev.interlayer.models.lm;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.StackSession;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;

/**
 * A causal language model made of an {@code nn} {@link DecoderStack} (embedding, blocks, final norm)
 * and an LM head: logits = softcap_c(N_f(x_L)·Headᵀ), with softcap_c(s) = c·tanh(s/c) when c &gt; 0
 * (Gemma 2) and the identity otherwise. Families (Gemma, OLMo 2, GPT-2) extend it with their config
 * and loaders; the forward pass itself is the stack's.
 *
 * <p>Shapes: head [vocab, d] (the embedding table when tied); logits [vocab] per position.
 * Immutable and thread-safe; each thread uses its own {@link Session}.
 */
public abstract class DecoderLM implements CausalLM, HiddenStates {
    /** Tokens per prefill chunk: bounds the activation buffers while keeping matmuls batched. */
    public static final int DEFAULT_CHUNK = 32;

    private final DecoderStack stack;
    private final Tensor head;           // [vocab, d]
    private final float finalSoftcap;    // 0 = none
    private final int contextLength;

    /**
     * A causal LM: logits = head · finalNorm(stack(ids)), soft-capped when {@code finalSoftcap > 0}.
     *
     * @param stack         the decoder stack (its final norm gives the hidden state)
     * @param head          LM head [vocab, d]
     * @param finalSoftcap  final-logit soft-cap c, 0 for none
     * @param contextLength the trained context (capped by the stack's own limit)
     */
    protected DecoderLM(DecoderStack stack, Tensor head, float finalSoftcap, int contextLength) {
        int d = stack.blocks().get(0).config().hidden();
        if (head.rank() != 2 || head.dim(1) != d) {
            throw new ShapeMismatchException("DecoderLM: head must be [vocab, " + d + "], got " + head.shape());
        }
        if (!(finalSoftcap >= 0) || Float.isInfinite(finalSoftcap)) {
            throw new IllegalArgumentException("DecoderLM: final softcap must be finite and >= 0, got " + finalSoftcap);
        }
        this.stack = stack;
        this.head = head;
        this.finalSoftcap = finalSoftcap;
        this.contextLength = Math.min(contextLength, stack.contextLength());
    }

    /** The decoder stack. */
    public DecoderStack stack() {
        return stack;
    }

    @Override
    public int vocabSize() {
        return head.dim(0);
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public int hiddenSize() {
        return head.dim(1);
    }

    @Override
    public Session newSession(int maxTokens) {
        return newSession(maxTokens, DEFAULT_CHUNK);
    }

    /** A session with room for {@code maxTokens} positions and prefill chunks of up to {@code chunk} tokens. */
    public Session newSession(int maxTokens, int chunk) {
        if (maxTokens < 1 || maxTokens > contextLength || chunk < 1) {
            throw new IllegalArgumentException("session of " + maxTokens + " positions (chunk " + chunk
                    + "): need 1 <= maxTokens <= contextLength " + contextLength + " and chunk >= 1");
        }
        return new Session(this, maxTokens, Math.min(chunk, maxTokens));
    }

    @Override
    public float[] hiddenStates(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("hiddenStates: no tokens");
        }
        Session s = newSession(tokens.length);
        int d = hiddenSize();
        float[] out = new float[Math.multiplyExact(tokens.length, d)];
        s.hidden(tokens, 0, tokens.length, out);
        return out;
    }

    // logits[i] = c·tanh(logits[i]/c) over [from, to)
    private void softcap(float[] logits, int from, int to) {
        if (finalSoftcap > 0) {
            float c = finalSoftcap;
            for (int i = from; i < to; i++) {
                logits[i] = (float) (c * Math.tanh(logits[i] / c));
            }
        }
    }

    /** Per-sequence state: the stack session (KV cache, activations) and the logits buffer. */
    public static final class Session implements CausalLM.Session {
        private final DecoderLM model;
        private final StackSession stack;
        private final int capacity, chunk;
        private final float[] logits;       // [vocab]
        private final Tensor logitsRow;     // [1, vocab] view of logits

        private Session(DecoderLM model, int capacity, int chunk) {
            this.model = model;
            this.capacity = capacity;
            this.chunk = chunk;
            this.stack = model.stack.newSession(capacity, chunk, false);
            this.logits = new float[model.vocabSize()];
            this.logitsRow = Tensor.wrap(logits, Shape.of(1, logits.length));
        }

        // Runs tokens[off, off+t) (t <= chunk) at the next positions; returns the final-norm output [t, d]
        // (a view into the stack session, valid until the next call). Decode (t = 1) allocates nothing.
        Tensor forwardChunk(int[] tokens, int off, int t) {
            return t == 1 ? model.stack.decode(tokens[off], stack)
                    : model.stack.forward(Arrays.copyOfRange(tokens, off, off + t), stack);
        }

        @Override
        public void truncate(int position) {
            stack.cache().truncate(position);
        }

        @Override
        public int position() {
            return stack.position();
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public float[] append(int[] tokens, int off, int len) {
            check(tokens, off, len);
            // The whole step runs through ComputePool.run (directly with one thread): with several, its kernels'
            // parallel loops then split on the pool without a hand-off (or an allocation) per loop.
            passTokens = tokens;
            passOff = off;
            passLen = len;
            try {
                ComputePool.run(appendPass);
            } finally {
                passTokens = null;
            }
            return logits;
        }

        // The pool-side step of append(), one object per session instead of one lambda per call.
        private int[] passTokens;
        private int passOff, passLen;
        private final Runnable appendPass = this::runAppendPass;

        private void runAppendPass() {
            appendHere(passTokens, passOff, passLen);
        }

        private void appendHere(int[] tokens, int off, int len) {
            Tensor h = null;
            for (int done = 0; done < len; done += chunk) {
                h = forwardChunk(tokens, off + done, Math.min(chunk, len - done));
            }
            Tensor last = h.dim(0) == 1 ? h : h.slice(0, h.dim(0) - 1, h.dim(0));
            Ops.matmulT(last, model.head, logitsRow);                             // [1, vocab]
            model.softcap(logits, 0, logits.length);
        }

        @Override
        public float[] appendAll(int[] tokens, int off, int len) {
            check(tokens, off, len);
            int vocab = model.vocabSize();
            float[] out = new float[Math.multiplyExact(len, vocab)];
            Tensor all = Tensor.wrap(out, Shape.of(len, vocab));                  // [len, vocab]
            for (int done = 0; done < len; done += chunk) {
                int t = Math.min(chunk, len - done);
                Ops.matmulT(forwardChunk(tokens, off + done, t), model.head, all.slice(0, done, done + t));
            }
            model.softcap(out, 0, out.length);
            return out;
        }

        // Final-norm outputs of tokens[off, off+len) copied into out [len, d].
        void hidden(int[] tokens, int off, int len, float[] out) {
            check(tokens, off, len);
            Tensor all = Tensor.wrap(out, Shape.of(len, model.hiddenSize()));     // [len, d]
            for (int done = 0; done < len; done += chunk) {
                int t = Math.min(chunk, len - done);
                all.slice(0, done, done + t).copyFrom(forwardChunk(tokens, off + done, t));
            }
        }

        private void check(int[] tokens, int off, int len) {
            CausalLM.checkAppend(tokens, off, len, position(), capacity, model.vocabSize());
        }

        @Override
        public void reset() {
            stack.cache().reset();
        }
    }
}
