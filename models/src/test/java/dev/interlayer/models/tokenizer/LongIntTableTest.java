package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** LongIntTable against java.util.HashMap as the reference: same answers for puts, first-wins puts and misses. */
class LongIntTableTest {
    @Test
    void agreesWithHashMapOnRandomIdPairs() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int round = 0; round < 20; round++) {
            int n = 1 + rng.nextInt(5000);
            int vocab = 1 + rng.nextInt(300);   // small: many repeated pairs
            LongIntTable t = new LongIntTable(n);
            Map<Long, Integer> first = new HashMap<>();
            for (int i = 0; i < n; i++) {
                long key = (long) rng.nextInt(vocab) << 32 | rng.nextInt(vocab);
                assertEquals(!first.containsKey(key), t.putIfAbsent(key, i));
                first.putIfAbsent(key, i);
            }
            assertEquals(first.size(), t.size());
            for (int i = 0; i < 2000; i++) {
                long key = (long) rng.nextInt(vocab + 5) << 32 | rng.nextInt(vocab + 5);
                assertEquals(first.getOrDefault(key, -1), t.get(key), "key " + Long.toHexString(key));
            }
            // put replaces: the last value wins, as MergeRanks needs for repeated merges
            Map<Long, Integer> last = new HashMap<>(first);
            for (Map.Entry<Long, Integer> e : first.entrySet()) {
                if (rng.nextBoolean()) {
                    int v = rng.nextInt(1_000_000);
                    t.put(e.getKey(), v);
                    last.put(e.getKey(), v);
                }
            }
            for (Map.Entry<Long, Integer> e : last.entrySet()) {
                assertEquals(e.getValue(), t.get(e.getKey()));
            }
        }
    }

    @Test
    void rejectsNegativeValuesAndOverfilling() {
        LongIntTable t = new LongIntTable(1);
        assertThrows(IllegalArgumentException.class, () -> t.putIfAbsent(1, -1));
        for (long k = 0; k < 2; k++) {
            t.putIfAbsent(k, 0);   // capacity 1 rounds up to 4 slots: two entries fit at load 0.5
        }
        assertThrows(IllegalStateException.class, () -> t.putIfAbsent(99, 0));
        assertEquals(0, t.get(1));
        assertEquals(-1, t.get(99));
    }
}
