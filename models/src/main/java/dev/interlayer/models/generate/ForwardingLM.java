package dev.interlayer.models.generate;

/**
 * A {@link CausalLM} that wraps another (caching, statistics, ...): its vocabulary and context length are the
 * wrapped model's; implementations give {@link #inner()} and the sessions, often {@link ForwardingSession}s over
 * the wrapped model's.
 */
public interface ForwardingLM extends CausalLM {
    /** The wrapped model. */
    CausalLM inner();

    @Override
    default int vocabSize() {
        return inner().vocabSize();
    }

    @Override
    default int contextLength() {
        return inner().contextLength();
    }

    /** A session that passes every call to a wrapped session; implementations override the calls they observe. */
    interface ForwardingSession extends Session {
        /** The wrapped session. */
        Session inner();

        @Override
        default int position() {
            return inner().position();
        }

        @Override
        default int capacity() {
            return inner().capacity();
        }

        @Override
        default float[] append(int[] tokens, int off, int len) {
            return inner().append(tokens, off, len);
        }

        @Override
        default float[] appendAll(int[] tokens, int off, int len) {
            return inner().appendAll(tokens, off, len);
        }

        @Override
        default void reset() {
            inner().reset();
        }

        @Override
        default void truncate(int position) {
            inner().truncate(position);
        }
    }
}
