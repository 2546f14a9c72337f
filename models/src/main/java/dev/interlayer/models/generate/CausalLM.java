package dev.interlayer.models.generate;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;

/**
 * A decoder-only language model that {@link Generator} can drive: p(next token | tokens so far).
 * Implementations are immutable and thread-safe; all mutable data (KV cache, activations) lives in a
 * {@link Session} that one thread owns.
 */
public interface CausalLM {

    /** Number of logits per position. */
    int vocabSize();

    /** The longest sequence the model was trained for. */
    int contextLength();

    /**
     * A new session with room for {@code maxTokens} positions (prompt + generated), all buffers
     * allocated up front so decoding does not allocate.
     */
    Session newSession(int maxTokens);

    /**
     * The checks every {@link Session#append} makes before running anything: a non-empty range inside
     * {@code tokens}, room for it in the session, and every id inside the vocabulary.
     *
     * @throws IllegalArgumentException naming the range, the capacity or the offending id and its index
     */
    static void checkAppend(int[] tokens, int off, int len, int position, int capacity, int vocab) {
        if (len < 1 || off < 0 || off + len > tokens.length) {
            throw new IllegalArgumentException("tokens [" + off + ", " + (off + len) + ") out of " + tokens.length);
        }
        if (position + len > capacity) {
            throw new IllegalArgumentException("session holds " + capacity + " positions; " + position + " used, "
                    + len + " more requested");
        }
        for (int i = off; i < off + len; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocab) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i
                        + " outside vocabulary [0, " + vocab + ")");
            }
        }
    }

    /** Per-sequence state: KV cache and scratch buffers. Not thread-safe. */
    interface Session {

        /** Tokens processed so far (the position of the next token). */
        int position();

        /** Maximum positions this session can hold. */
        int capacity();

        /**
         * Feeds {@code len} tokens starting at {@code tokens[off]} at the next positions (prefill in
         * chunks when {@code len > 1}) and returns the logits for the last of them: an array of
         * {@link #vocabSize()} floats owned by the session, overwritten by the next call.
         *
         * @throws IllegalArgumentException if a token id is out of range or capacity would be exceeded
         */
        float[] append(int[] tokens, int off, int len);

        /** Like {@link #append} but returns a new [len × vocab] row-major array with every position's logits. */
        float[] appendAll(int[] tokens, int off, int len);

        /** Forgets all positions (keeps the buffers). */
        void reset();

        /**
         * Rolls back to {@code position} tokens (speculative decoding, retries): the next token goes at
         * that position and the logits of later positions are forgotten. Sliding-window layers keep a
         * bounded ring, so a rollback deeper than one prefill chunk can fail.
         *
         * @throws IllegalArgumentException unless 0 ≤ position ≤ {@link #position()}
         * @throws IllegalStateException    if a sliding-window layer already dropped a key the rollback needs
         */
        void truncate(int position);
    }

    /**
     * A session of a fixed capacity over a fixed vocabulary: {@link #capacity()} and the argument checks of
     * {@link #append}/{@link #appendAll} ({@link #checkAppend}) in one place; subclasses keep the position.
     */
    abstract class BoundedSession implements Session {
        private final int capacity;
        private final int vocab;

        /** A session of {@code capacity} positions whose tokens are below {@code vocab}. */
        protected BoundedSession(int capacity, int vocab) {
            this.capacity = capacity;
            this.vocab = vocab;
        }

        @Override
        public final int capacity() {
            return capacity;
        }

        /**
         * Checks an append of {@code tokens[off, off + len)} at {@link #position()}.
         *
         * @throws IllegalArgumentException as {@link #checkAppend}
         */
        protected final void check(int[] tokens, int off, int len) {
            checkAppend(tokens, off, len, position(), capacity, vocab);
        }
    }

    /**
     * A bounded session that computes logits from a forward pass and owns the row {@link #append} returns:
     * {@link #append} checks its arguments, runs {@link #forwardLast} into that row and returns it (allocating
     * nothing, so decoding does not allocate); {@link #appendAll} checks, allocates the new
     * {@code [len × vocab]} array and runs {@link #forwardAll} into it.
     */
    abstract class LogitsSession extends BoundedSession {
        private final float[] logits;       // [vocab]
        private final Tensor logitsRow;     // [1, vocab] view of logits

        /** A session of {@code capacity} positions over {@code vocab} logits. */
        protected LogitsSession(int capacity, int vocab) {
            super(capacity, vocab);
            this.logits = new float[vocab];
            this.logitsRow = Tensor.wrap(logits, Shape.of(1, vocab));
        }

        /** The logits of the last appended token, [vocab]; {@link #logitsRow()} views the same floats. */
        protected final float[] logits() {
            return logits;
        }

        /** {@link #logits()} as a [1, vocab] tensor, for a head that writes one row. */
        protected final Tensor logitsRow() {
            return logitsRow;
        }

        /**
         * Runs {@code tokens[off, off + len)} (checked) at the next positions and writes the logits of the last
         * into {@link #logits()}.
         */
        protected abstract void forwardLast(int[] tokens, int off, int len);

        /** Runs {@code tokens[off, off + len)} (checked) and writes every position's logits into {@code out} [len, vocab]. */
        protected abstract void forwardAll(int[] tokens, int off, int len, float[] out);

        @Override
        public final float[] append(int[] tokens, int off, int len) {
            check(tokens, off, len);
            forwardLast(tokens, off, len);
            return logits;
        }

        @Override
        public final float[] appendAll(int[] tokens, int off, int len) {
            check(tokens, off, len);
            float[] out = new float[Math.multiplyExact(len, logits.length)];
            forwardAll(tokens, off, len, out);
            return out;
        }
    }
}
