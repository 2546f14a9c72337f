package dev.interlayer.models.generate;

import java.util.Objects;

/**
 * A {@link CausalLM} that wraps another (caching, statistics, ...): its vocabulary and context length are the
 * wrapped model's; subclasses give the sessions, often a {@link ForwardingSession} over one of the wrapped model's.
 */
public abstract class ForwardingLM implements CausalLM {
    /** The wrapped model. */
    protected final CausalLM inner;

    /** Wraps {@code inner}. */
    protected ForwardingLM(CausalLM inner) {
        this.inner = Objects.requireNonNull(inner, "inner");
    }

    @Override
    public int vocabSize() {
        return inner.vocabSize();
    }

    @Override
    public int contextLength() {
        return inner.contextLength();
    }

    /** A session that passes every call to a wrapped session; subclasses override the calls they observe. */
    public abstract static class ForwardingSession implements Session {
        /** The wrapped session. */
        protected final Session inner;

        /** Wraps {@code inner}. */
        protected ForwardingSession(Session inner) {
            this.inner = Objects.requireNonNull(inner, "inner");
        }

        @Override
        public int position() {
            return inner.position();
        }

        @Override
        public int capacity() {
            return inner.capacity();
        }

        @Override
        public float[] append(int[] tokens, int off, int len) {
            return inner.append(tokens, off, len);
        }

        @Override
        public float[] appendAll(int[] tokens, int off, int len) {
            return inner.appendAll(tokens, off, len);
        }

        @Override
        public void reset() {
            inner.reset();
        }

        @Override
        public void truncate(int position) {
            inner.truncate(position);
        }
    }
}
