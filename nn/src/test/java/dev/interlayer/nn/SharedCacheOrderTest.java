package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.interlayer.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** A layer reading another layer's cache entries (cross-layer KV sharing) refuses entries not yet written. */
class SharedCacheOrderTest {
    private final RandomLayers r = new RandomLayers(21);
    private final AttentionConfig c = AttentionConfig.builder(16, 4, 32).kvHeads(2).rope(RopeConfig.of(1e4)).build();
    private final Attention owner = r.attention(c);
    private final Attention sharer = r.attention(c);
    private final KvCache cache = new KvCache(32, c.kvDim());
    private final Attention.State own = owner.newState(cache, 0, 8);
    private final Attention.State shared = sharer.newSharedState(cache, 0, 8);

    private void run(Attention a, Attention.State st, int t) {
        a.forward(r.input(t, 16), Tensor.zeros(t, 16), st);
    }

    @Test
    void theSharingLayerRunsOnlyAfterItsSourceWroteTheChunk() {
        BadInputTest.throwsWith(IllegalStateException.class, "cache layer 0|entries [0, 3)|written only up to entry 0",
                () -> run(sharer, shared, 3));
        run(owner, own, 3);
        assertDoesNotThrow(() -> run(sharer, shared, 3));
        cache.advance(3);
        BadInputTest.throwsWith(IllegalStateException.class, "entries [3, 4)|up to entry 3",
                () -> run(sharer, shared, 1));
        run(owner, own, 1);
        assertDoesNotThrow(() -> run(sharer, shared, 1));
    }

    @Test
    void batchedDecodeRefusesASharedStateBeforeTouchingAnyCache() {
        BatchAttention batch = new BatchAttention(sharer, 2, null);
        KvCache first = new KvCache(32, c.kvDim());
        batch.states[0] = sharer.newState(first, 0, 1);
        batch.states[1] = shared;
        BadInputTest.throwsWith(IllegalArgumentException.class, "layer state 1 reads a shared cache",
                () -> batch.forward(r.input(2, 16), Tensor.zeros(2, 16), 2));
        // the refusal comes before sequence 0's keys are written (a zeroed cache stays zero)
        assertArrayEquals(new float[32 * c.kvDim()], first.keys(0), "sequence 0's cache was written");
    }

    @Test
    void aRollbackForgetsTheEntriesItDropped() {
        run(owner, own, 4);
        cache.advance(4);
        cache.truncate(2);
        BadInputTest.throwsWith(IllegalStateException.class, "entries [2, 3)|up to entry 2",
                () -> run(sharer, shared, 1));
        cache.reset();
        BadInputTest.throwsWith(IllegalStateException.class, "entries [0, 1)|up to entry 0",
                () -> run(sharer, shared, 1));
    }
}
