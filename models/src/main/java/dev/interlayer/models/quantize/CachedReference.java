package dev.interlayer.models.quantize;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.ForwardingLM;
import java.util.HashMap;
import java.util.Map;

/**
 * The unquantized model for the many {@link LmEval} runs of {@link MixedQuantizer} on one token sequence: each
 * {@code appendAll} of the same tokens at the same position after a reset returns the logits the model gave the
 * first time (a second run of the model would agree up to differences in the last float digits), so the
 * reference runs once instead of once per candidate assignment. Memory: the calibration tokens' logits, {@code tokens · vocab} floats (12k tokens of a
 * 512-token vocabulary: 25 MB). Only {@code appendAll} from a fresh or reset session is supported, which is all
 * LmEval calls.
 */
final class CachedReference implements ForwardingLM {
    private final CausalLM model;
    private final int[] ids;
    private final Map<Long, float[]> logits = new HashMap<>();

    /** Caches {@code model}'s logits on {@code ids} (the one array every evaluation passes). */
    CachedReference(CausalLM model, int[] ids) {
        this.model = model;
        this.ids = ids;
    }

    @Override
    public CausalLM inner() {
        return model;
    }

    @Override
    public Session newSession(int maxTokens) {
        return new BoundedSession(maxTokens, vocabSize()) {
            private Session session;
            private int position;

            @Override
            public int position() {
                return position;
            }

            @Override
            public float[] append(int[] tokens, int off, int len) {
                throw new UnsupportedOperationException("CachedReference: appendAll only");
            }

            @Override
            public float[] appendAll(int[] tokens, int off, int len) {
                if (tokens != ids) {
                    throw new IllegalArgumentException("CachedReference: caches one token array, got another");
                }
                check(tokens, off, len);                   // capacity and vocabulary, on hits as on misses
                // position < 2^20, off and len < 2^21 here (context ≤ 1M, calibration ≤ 2M tokens)
                long key = ((long) position << 42) | ((long) off << 21) | len;
                float[] v = logits.get(key);
                if (v == null) {
                    if (session == null) {
                        session = model.newSession(maxTokens);
                    }
                    if (session.position() != position) {  // a miss after hits: the inner session is not at this state
                        throw new IllegalStateException("CachedReference: uncached call at position " + position);
                    }
                    v = session.appendAll(tokens, off, len);
                    logits.put(key, v);
                } else if (session != null) {
                    session = null;                        // out of step with this session from now on
                }
                position += len;
                return v;
            }

            @Override
            public void reset() {
                position = 0;
                if (session != null) {
                    session.reset();
                }
            }

            @Override
            public void truncate(int p) {
                throw new UnsupportedOperationException("CachedReference: no truncate");
            }
        };
    }
}
