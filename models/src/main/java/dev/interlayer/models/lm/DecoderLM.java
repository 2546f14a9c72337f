package dev.interlayer.models.lm;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.KvType;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.StackSession;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * A causal language model made of an {@code nn} {@link DecoderStack} (embedding, blocks, final norm)
 * and an LM head: logits = softcap_c(N_f(x_L)·Headᵀ), with softcap_c(s) = c·tanh(s/c) when c &gt; 0
 * (Gemma 2) and the identity otherwise. Families (Llama/Mistral/Qwen2/Mixtral/Qwen2-MoE, Gemma, OLMo 2,
 * GPT-2) extend it with their config and loaders; the forward pass itself is the stack's.
 *
 * <p>Shapes: head [vocab, d] (the embedding table when tied); logits [vocab] per position.
 * Immutable and thread-safe; each thread uses its own {@link Session}.
 */
public abstract class DecoderLM implements CausalLM, HiddenStates {
    /** Tokens per prefill chunk: bounds the activation buffers while keeping matmuls batched. */
    public static final int DEFAULT_CHUNK = 128;

    private final DecoderStack stack;
    private final Tensor head;           // [vocab, d]
    private final float finalSoftcap;    // 0 = none
    private final int contextLength;
    private final KvType kvType;         // storage of every new session's KV cache

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
        this.kvType = KvType.F32;
    }

    // the same model (stack, head, soft-cap, context shared, nothing copied) with sessions caching in kvType
    private DecoderLM(DecoderLM base, KvType kvType) {
        this.stack = base.stack;
        this.head = base.head;
        this.finalSoftcap = base.finalSoftcap;
        this.contextLength = base.contextLength;
        this.kvType = kvType;
    }

    /**
     * This model with every new session's KV cache stored in {@code type} (F16 or Q8_0 halve or nearly quarter
     * the cache for long contexts; see {@link KvType}): a view sharing the weights. Checked here, so a model
     * whose head dimension Q8_0 cannot block is refused before any session is made.
     *
     * @throws IllegalArgumentException if type is Q8_0 and a layer's head dimension is not a multiple of 32
     */
    public DecoderLM withKvType(KvType type) {
        if (type == kvType) {
            return this;
        }
        for (int l = 0; l < stack.layers(); l++) {
            type.requireHeadDim(l, stack.blocks().get(l).config().attention().headDim());
        }
        return new KvView(this, type);
    }

    /** Storage type of the KV cache of this model's sessions (F32 unless {@link #withKvType} chose another). */
    public KvType kvType() {
        return kvType;
    }

    // the view withKvType returns (DecoderLM is abstract; families add no behaviour of their own)
    private static final class KvView extends DecoderLM {
        KvView(DecoderLM base, KvType type) {
            super(base, type);
        }
    }

    /** The decoder stack. */
    public DecoderStack stack() {
        return stack;
    }

    /**
     * The LM head as {@code nn} applies it to N_f(x): logits = softcap_c(h·Headᵀ), for plans, early exits and
     * the logit lens (a view of the same weights, nothing copied).
     */
    public OutputHead outputHead() {
        return new OutputHead(new Linear(head), finalSoftcap);
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
        // Positions past the trained context would be silently extrapolated (RoPE) and the KV cache sized
        // by an unchecked argument: refuse.
        if (maxTokens < 1 || maxTokens > contextLength || chunk < 1) {
            throw new IllegalArgumentException("session of " + maxTokens + " positions (chunk " + chunk
                    + "): need 1 <= positions <= the model's context length " + contextLength + " and chunk >= 1");
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
    public static final class Session extends CausalLM.LogitsSession {
        private final DecoderLM model;
        private final StackSession stack;
        private final int chunk;

        private Session(DecoderLM model, int capacity, int chunk) {
            super(capacity, model.vocabSize());
            this.model = model;
            this.chunk = chunk;
            this.stack = model.stack.newSession(capacity, chunk, false, model.kvType);
        }

        // Runs tokens[off, off+t) (t <= chunk) at the next positions; returns the final-norm output [t, d]
        // (a view into the stack session, valid until the next call). Allocates nothing.
        Tensor forwardChunk(int[] tokens, int off, int t) {
            return model.stack.forward(tokens, off, t, stack);
        }

        /** The stack session: per-block states (MoE router statistics of the last call) and the KV cache. */
        public StackSession stackSession() {
            return stack;
        }

        /** Bytes of the session's KV cache (keys and values of every layer, in the model's {@link KvType}). */
        public long cacheBytes() {
            return stack.cache().bytes();
        }

        /** KV-cache rows layer l keeps: the session's positions, or a sliding-window ring (window + chunk). */
        public int cacheSlots(int layer) {
            return stack.cache().rows(layer);
        }

        /** Sliding window of layer l as this session applies it (0 = full causal attention). */
        public int window(int layer) {
            return model.stack.blocks().get(layer).config().attention().window();
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
        protected void forwardLast(int[] tokens, int off, int len) {
            run(tokens, off, len, LAST, null);
        }

        @Override
        protected void forwardAll(int[] tokens, int off, int len, float[] out) {
            run(tokens, off, len, ALL, out);
        }

        // Final-norm outputs of tokens[off, off+len) copied into out [len, d].
        void hidden(int[] tokens, int off, int len, float[] out) {
            check(tokens, off, len);
            run(tokens, off, len, HIDDEN, out);
        }

        private static final int LAST = 0, ALL = 1, HIDDEN = 2;

        // One call runs through ComputePool.run (directly with one thread): with several, its kernels' parallel
        // loops then split on the pool without a hand-off (or an allocation) per loop. The pass is a reusable
        // object holding its arguments, not a lambda, so decode allocates nothing.
        private void run(int[] tokens, int off, int len, int mode, float[] out) {
            passTokens = tokens;
            passOff = off;
            passLen = len;
            passMode = mode;
            passOut = out;
            try {
                ComputePool.run(pass);
            } finally {
                passTokens = null;
                passOut = null;
            }
        }

        private int[] passTokens;
        private float[] passOut;
        private int passOff, passLen, passMode;
        private final Runnable pass = this::runPass;

        private void runPass() {
            int[] tokens = passTokens;
            int off = passOff, len = passLen;
            if (passMode == LAST) {
                Tensor h = null;
                for (int done = 0; done < len; done += chunk) {
                    h = forwardChunk(tokens, off + done, Math.min(chunk, len - done));
                }
                Tensor last = h.dim(0) == 1 ? h : h.slice(0, h.dim(0) - 1, h.dim(0));
                Ops.matmulT(last, model.head, logitsRow());                           // [1, vocab]
                model.softcap(logits(), 0, logits().length);
                return;
            }
            int width = passMode == ALL ? model.vocabSize() : model.hiddenSize();
            Tensor all = Tensor.wrap(passOut, Shape.of(len, width));                  // [len, vocab or d]
            for (int done = 0; done < len; done += chunk) {
                int t = Math.min(chunk, len - done);
                Tensor h = forwardChunk(tokens, off + done, t);
                if (passMode == ALL) {
                    Ops.matmulT(h, model.head, all.slice(0, done, done + t));
                } else {
                    all.slice(0, done, done + t).copyFrom(h);
                }
            }
            if (passMode == ALL) {
                model.softcap(passOut, 0, passOut.length);
            }
        }

        @Override
        public void reset() {
            stack.cache().reset();
        }
    }
}
