package dev.interlayer.models.tokenizer;

/**
 * A fixed-capacity map from {@code long} keys to non-negative {@code int} values, open addressing with
 * linear probing over two flat arrays. Tokenizer tables (BPE merge ranks over id pairs: ~280k entries for a
 * 128k vocabulary) held as {@code HashMap<Long, Integer>} cost ~60 bytes an entry in nodes and boxes; here an
 * entry costs 12 bytes / load factor (at most 0.5), which keeps a loaded model's heap small.
 */
final class LongIntTable {
    private final long[] keys;
    private final int[] values;   // value + 1; 0 marks an empty slot
    private final int mask;
    private final int shift;      // 64 - log2(slots): the hash's top bits pick the slot
    private int size;

    /** A table that holds up to {@code capacity} entries. */
    LongIntTable(int capacity) {
        int slots = Integer.highestOneBit(Math.max(2, capacity) * 2 - 1) * 2;   // power of two >= 2 * capacity
        this.keys = new long[slots];
        this.values = new int[slots];
        this.mask = slots - 1;
        this.shift = 64 - Integer.numberOfTrailingZeros(slots);
    }

    /** Stores {@code value} (>= 0) under {@code key} unless the key is present; true if stored. */
    boolean putIfAbsent(long key, int value) {
        if (value < 0 || value == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("LongIntTable: value " + value + " outside [0, 2^31 - 1)");
        }
        int i = slot(key);
        while (values[i] != 0) {
            if (keys[i] == key) {
                return false;
            }
            i = (i + 1) & mask;
        }
        if (size * 2 >= keys.length) {
            throw new IllegalStateException("LongIntTable: full (" + size + " entries)");
        }
        keys[i] = key;
        values[i] = value + 1;
        size++;
        return true;
    }

    /** Stores {@code value} (>= 0) under {@code key}, replacing an earlier value. */
    void put(long key, int value) {
        if (!putIfAbsent(key, value)) {
            int i = slot(key);
            while (keys[i] != key || values[i] == 0) {
                i = (i + 1) & mask;
            }
            values[i] = value + 1;
        }
    }

    /** The value of {@code key}, or -1 if absent. */
    int get(long key) {
        int i = slot(key);
        int v;
        while ((v = values[i]) != 0) {
            if (keys[i] == key) {
                return v - 1;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    int size() {
        return size;
    }

    private int slot(long key) {
        // Fibonacci hashing: id pairs packed as hi << 32 | lo differ in a few low bits of each half.
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }
}
