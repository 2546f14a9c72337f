package dev.interlayer.nn;

import java.util.Arrays;
import java.util.Objects;

/**
 * Per-session key/value cache for every attention layer. Entries are post-RoPE (and post-QK-norm) keys
 * and values, one row per cache entry (slot); entry j also records the position it was computed at.
 *
 * <p>A full layer holds {@code contextLength} rows and keeps entry j in row j. A sliding-window layer
 * (window w) built with {@link #withSlidingRings} keeps a ring of {@code w + maxChunk} rows instead
 * (when that is smaller than the context) and entry j lives in row {@code j mod rows}: a query only
 * sees keys within w − 1 positions, so older rows can be reused and memory scales with the window.
 * The {@code maxChunk} extra rows let a chunk of up to maxChunk + 1 tokens be written before any key
 * its first query still needs is overwritten, and let {@link #truncate} roll back up to maxChunk + 1
 * entries at any time. The positions table ({@code int[contextLength]}, shared by all layers) stays
 * full length.
 *
 * <p>Shapes: keys(l), values(l): [rows(l), kvDim(l)] row-major. {@link #length()} entries are valid;
 * attention layers write the next chunk's entries (and their positions) at slots [length, length + T)
 * and the owner calls {@link #advance(int)} once after all layers ran. Under implicit positions entry j
 * is at position j. Mutable; one thread owns it.
 *
 * <p>Storage ({@link KvType}): F32 by default; F16 or Q8_0 ({@link #withSlidingRings(int, int[], int[], int,
 * KvType)}) store each row on append and widen it when attention reads it, for 2 or 1.0625 bytes per value
 * instead of 4 ({@link #bytes()}). {@link #keys(int)}/{@link #values(int)} expose the arrays of an F32 cache;
 * {@link #readKey}/{@link #readValue} read any type.
 */
public final class KvCache {
    private final int contextLength;
    private final int[] kvDims;
    private final int[] rows;        // [layers] rows held: contextLength, or the ring capacity
    private final int[] windows;     // [layers] window a ring serves; 0 for full layers
    private final KvType type;
    private final KvRows[] keys;     // [layers] [rows(l), kvDim(l)] in type
    private final KvRows[] values;   // [layers] [rows(l), kvDim(l)] in type
    final int[] positions;           // [contextLength] position of each entry (written by attention layers)
    private final int[] oldest;      // [layers] first entry a ring still holds (0 for full layers)
    private final int[] droppedMin;  // [layers] smallest position a ring overwrote, MAX_VALUE if none
    private final int[] droppedMax;  // [layers] largest position a ring overwrote, MIN_VALUE if none
    private final int[] writtenEnd;  // [layers] end of the entries the last write to layer l covered
    private int length;
    private int irregularFrom = Integer.MAX_VALUE; // first entry < length whose position != its index

    /**
     * A zeroed cache holding {@code contextLength} rows for every layer, with the given KV widths (Hkv·dh each).
     *
     * @throws IllegalArgumentException if a size is not positive or the cache would exceed 2^31 floats per layer
     */
    public KvCache(int contextLength, int... kvDims) {
        this(contextLength, kvDims, new int[kvDims.length], 0, KvType.F32);
    }

    /**
     * A zeroed cache where every layer with window w &gt; 0 and w + maxChunk &lt; contextLength keeps a ring
     * of w + maxChunk rows; other layers (window 0) hold contextLength rows.
     *
     * @param windows  [layers] sliding window of each layer, 0 = none
     * @param maxChunk largest number of tokens one call writes (the session's maxTokens)
     * @throws IllegalArgumentException if a size is not positive, windows and kvDims differ in length, a window
     *                                  is negative, or a layer would exceed 2^31 floats
     */
    public static KvCache withSlidingRings(int contextLength, int[] kvDims, int[] windows, int maxChunk) {
        return withSlidingRings(contextLength, kvDims, windows, maxChunk, KvType.F32);
    }

    /**
     * As {@link #withSlidingRings(int, int[], int[], int)}, storing keys and values in {@code type}.
     *
     * @throws IllegalArgumentException also if type is Q8_0 and a kvDim is not a multiple of 32
     */
    public static KvCache withSlidingRings(int contextLength, int[] kvDims, int[] windows, int maxChunk,
                                           KvType type) {
        if (maxChunk < 1) {
            throw new IllegalArgumentException("KvCache.withSlidingRings: maxChunk must be >= 1, got " + maxChunk);
        }
        return new KvCache(contextLength, kvDims, windows, maxChunk, Objects.requireNonNull(type, "KV cache type"));
    }

    private KvCache(int contextLength, int[] kvDims, int[] windows, int maxChunk, KvType type) {
        if (contextLength < 1 || kvDims.length == 0) {
            throw new IllegalArgumentException("KvCache needs contextLength >= 1 and at least one layer, got "
                    + contextLength + " and " + kvDims.length + " layers");
        }
        if (windows.length != kvDims.length) {
            throw new IllegalArgumentException("KvCache: " + windows.length + " windows for " + kvDims.length
                    + " layers");
        }
        int layers = kvDims.length;
        this.contextLength = contextLength;
        this.kvDims = kvDims.clone();
        this.rows = new int[layers];
        this.windows = new int[layers];
        this.type = type;
        this.keys = new KvRows[layers];
        this.values = new KvRows[layers];
        for (int l = 0; l < layers; l++) {
            int w = windows[l];
            if (w < 0) {
                throw new IllegalArgumentException("KvCache layer " + l + ": window must be >= 0, got " + w);
            }
            boolean ring = maxChunk > 0 && w > 0 && (long) w + maxChunk < contextLength;
            rows[l] = ring ? w + maxChunk : contextLength;
            this.windows[l] = ring ? w : 0;
            long n = (long) rows[l] * kvDims[l];
            if (kvDims[l] < 1 || n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("KvCache layer " + l + ": " + rows[l] + " rows x kvDim "
                        + kvDims[l] + " is not a valid heap array size");
            }
            type.rowBytes(kvDims[l]); // Q8_0: whole blocks per row, refused here with the width
            keys[l] = KvRows.of(type, rows[l], kvDims[l]);
            values[l] = KvRows.of(type, rows[l], kvDims[l]);
        }
        this.positions = new int[contextLength];
        this.oldest = new int[layers];
        this.writtenEnd = new int[layers];
        this.droppedMin = new int[layers];
        this.droppedMax = new int[layers];
        Arrays.fill(droppedMin, Integer.MAX_VALUE);
        Arrays.fill(droppedMax, Integer.MIN_VALUE);
    }

    /** Number of valid entries (= the next implicit position). */
    public int length() {
        return length;
    }

    /** Maximum number of entries (and the bound on positions: every position is in [0, contextLength)). */
    public int contextLength() {
        return contextLength;
    }

    /** Number of layers. */
    public int layers() {
        return kvDims.length;
    }

    /** KV width of layer l. */
    public int kvDim(int layer) {
        return kvDims[layer];
    }

    /** Rows layer l holds: contextLength, or the ring capacity w + maxChunk for a sliding-window ring. */
    public int rows(int layer) {
        return rows[layer];
    }

    /** True if layer l keeps a ring of {@link #rows(int)} &lt; contextLength rows. */
    public boolean isRing(int layer) {
        return windows[layer] > 0;
    }

    /** The window layer l's ring serves, or 0 for a full layer. */
    public int ringWindow(int layer) {
        return windows[layer];
    }

    /** Row of entry {@code slot} in layer l's arrays ({@code slot mod rows(l)}). */
    public int row(int layer, int slot) {
        return slot % rows[layer];
    }

    /** The first entry layer l still holds (0 for a full layer; older entries of a ring were overwritten). */
    public int oldestRetained(int layer) {
        return oldest[layer];
    }

    /** Position of entry {@code slot} (valid for slot &lt; length). */
    public int position(int slot) {
        if (slot < 0 || slot >= length) {
            throw new IndexOutOfBoundsException("entry " + slot + " outside [0, " + length + ")");
        }
        return positions[slot];
    }

    /** The storage type of keys and values. */
    public KvType type() {
        return type;
    }

    /**
     * Bytes of key and value storage over all layers: Σ_l 2·rows(l)·rowBytes(kvDim(l)), rowBytes = 4·kvDim (F32),
     * 2·kvDim (F16) or 34·kvDim/32 (Q8_0). The positions table (4·contextLength bytes) is not included.
     */
    public long bytes() {
        long b = 0;
        for (int l = 0; l < keys.length; l++) {
            b += keys[l].bytes() + values[l].bytes();
        }
        return b;
    }

    /**
     * Keys of layer l, [rows(l), kvDim] row-major (mutable; entry j is row j mod rows(l)).
     *
     * @throws IllegalStateException unless this cache stores F32 (use {@link #readKey})
     */
    public float[] keys(int layer) {
        return f32(keys[layer], "keys");
    }

    /**
     * Values of layer l, [rows(l), kvDim] row-major.
     *
     * @throws IllegalStateException unless this cache stores F32 (use {@link #readValue})
     */
    public float[] values(int layer) {
        return f32(values[layer], "values");
    }

    private float[] f32(KvRows r, String what) {
        if (r instanceof KvRows.F32Rows f) {
            return f.data;
        }
        throw new IllegalStateException("KvCache." + what + "(layer): this cache stores " + type.cliName()
                + ", not float arrays; read entries with read" + (what.equals("keys") ? "Key" : "Value"));
    }

    /** Key of entry {@code slot} in layer l widened to F32 into out[off .. off + kvDim(l)) (row slot mod rows(l)). */
    public void readKey(int layer, int slot, float[] out, int off) {
        keys[layer].read(row(layer, slot), out, off);
    }

    /** Value of entry {@code slot} in layer l widened to F32 into out[off .. off + kvDim(l)). */
    public void readValue(int layer, int slot, float[] out, int off) {
        values[layer].read(row(layer, slot), out, off);
    }

    // Key rows of layer l (attention reads them through KvRows).
    KvRows keyRows(int layer) {
        return keys[layer];
    }

    // Value rows of layer l.
    KvRows valueRows(int layer) {
        return values[layer];
    }

    // Writes t rows of k and v ([t, kvDim] from offset 0) into entries [slot, slot + t) of layer l, converting to
    // the storage type; a ring wraps at most once (t ≤ rows).
    void write(int layer, float[] k, float[] v, int slot, int t) {
        writtenEnd[layer] = slot + t;
        int ringRows = rows[layer], width = kvDims[layer];
        int row = slot % ringRows;
        int first = Math.min(t, ringRows - row);
        keys[layer].write(k, 0, row, first);
        values[layer].write(v, 0, row, first);
        if (first < t) {
            keys[layer].write(k, first * width, 0, t - first);
            values[layer].write(v, first * width, 0, t - first);
        }
    }

    // Checks that entries [past, past + t) of layer l were written (by its owning attention layer, earlier in this
    // call) before a layer sharing the cache reads them: else it would attend to stale or zero rows. Known gap: the
    // mark is the end of the last write, so after a call that failed between the owner's write and advance(), a
    // sharing layer run before its owner at the same position would pass (stacks always run the owner first).
    void requireWritten(int layer, int past, int t) {
        if (writtenEnd[layer] < past + t) {
            throw new IllegalStateException("Attention.forward: a layer sharing cache layer " + layer
                    + " reads entries [" + past + ", " + (past + t) + ") but its source layer has written only up"
                    + " to entry " + writtenEnd[layer] + "; run the source layer first in each call");
        }
    }

    // Checks that layer l can serve an attention layer of config c (else IllegalArgumentException naming both).
    void requireServes(int layer, AttentionConfig c) {
        if (layer < 0 || layer >= layers() || kvDim(layer) != c.kvDim()) {
            throw new IllegalArgumentException("Attention state: cache layer " + layer + " does not exist or has"
                    + " kvDim " + (layer >= 0 && layer < layers() ? kvDim(layer) : -1) + " instead of " + c.kvDim());
        }
        if (contextLength > c.contextLength()) {
            throw new IllegalArgumentException("KvCache contextLength " + contextLength
                    + " exceeds the layer's contextLength " + c.contextLength());
        }
        if (isRing(layer) && ringWindow(layer) != c.window()) {
            throw new IllegalArgumentException("Attention state: cache layer " + layer + " keeps a ring for window "
                    + ringWindow(layer) + " but the layer's window is " + c.window());
        }
        type.requireHeadDim(layer, c.headDim());
    }

    // Refuses a chunk [past, past + t) with explicit irregular positions whose queries could see a key the ring of
    // layer l already overwrote (or is about to; `first` = first entry still held after the write): the ring would
    // silently differ from a full cache. Conservative: compares against the range [min, max] of dropped positions.
    void requireRetained(int layer, int first, int past, int t, int w, boolean causal) {
        int[] pos = positions;
        int lo = droppedMin[layer], hi = droppedMax[layer];
        for (int j = oldest[layer]; j < first; j++) {
            lo = Math.min(lo, pos[j]);
            hi = Math.max(hi, pos[j]);
        }
        for (int i = 0; i < t; i++) {
            int pq = pos[past + i];
            int top = causal ? pq : pq + w - 1; // visible keys: (pq − w, top]
            if (lo <= top && hi > pq - w) {
                throw new IllegalStateException("Attention.forward: the query at position " + pq + " (index " + i
                        + ") may see a key at a position in [" + lo + ", " + hi + "] that the sliding-window ring"
                        + " of " + rows[layer] + " rows (window " + w + ") no longer holds; ring caches"
                        + " need positions that do not revisit the window of dropped entries");
            }
        }
    }

    // True if every entry before `slot` sits at the position equal to its index (implicit positions).
    boolean regularBefore(int slot) {
        return irregularFrom >= slot;
    }

    // Checks positions given for a chunk of `tokens` tokens: IllegalArgumentException naming op if the array
    // length differs from tokens or a position is outside [0, contextLength).
    void checkPositions(String op, int[] positions, int tokens) {
        if (positions.length != tokens) {
            throw new IllegalArgumentException(op + ": positions has " + positions.length + " entries for " + tokens
                    + " tokens");
        }
        for (int i = 0; i < positions.length; i++) {
            int p = positions[i];
            if (p < 0 || p >= contextLength) {
                throw new IllegalArgumentException(op + ": position " + p + " at index " + i
                        + " is outside [0, " + contextLength + ") (context length " + contextLength + ")");
            }
        }
    }

    /**
     * Marks {@code tokens} more entries valid (after every layer wrote them); rings forget entries that the
     * write overwrote.
     *
     * @throws IllegalStateException if that passes the context length
     */
    public void advance(int tokens) {
        requireRoom(tokens);
        int end = length + tokens;
        for (int j = length; j < end && irregularFrom == Integer.MAX_VALUE; j++) {
            if (positions[j] != j) {
                irregularFrom = j;
            }
        }
        for (int l = 0; l < rows.length; l++) {
            int first = Math.max(oldest[l], end - rows[l]);
            for (int j = oldest[l]; j < first; j++) {
                droppedMin[l] = Math.min(droppedMin[l], positions[j]);
                droppedMax[l] = Math.max(droppedMax[l], positions[j]);
            }
            oldest[l] = first;
        }
        length = end;
    }

    /**
     * Checks that {@code tokens} more entries fit in the cache.
     *
     * @throws IllegalStateException unless {@code tokens} more entries fit
     */
    public void requireRoom(int tokens) {
        if (tokens < 0 || length + tokens > contextLength) {
            throw new IllegalStateException("positions [" + length + ", " + (length + tokens)
                    + ") are past the context length " + contextLength + " of this session's KV cache");
        }
    }

    /**
     * Rolls back to {@code newLength} entries (speculative decoding, retries); later rows become scratch.
     * A ring layer must still hold the entries a query at entry newLength can see (newLength − w + 1 onward);
     * that always holds when rolling back at most maxChunk + 1 entries.
     *
     * @throws IllegalArgumentException unless 0 ≤ newLength ≤ length
     * @throws IllegalStateException    if a ring layer already overwrote an entry the rollback needs
     */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + ": must be in [0, " + length + "]");
        }
        if (newLength == 0) {
            reset();
            return;
        }
        for (int l = 0; l < rows.length; l++) {
            int need = Math.max(0, newLength - windows[l] + 1);
            if (windows[l] > 0 && oldest[l] > need) {
                throw new IllegalStateException("truncate to " + newLength + ": layer " + l + " keeps a ring of "
                        + rows[l] + " rows (window " + windows[l] + ") whose oldest retained position is "
                        + positions[oldest[l]] + " (entry " + oldest[l] + "), but continuing from " + newLength
                        + " needs positions from " + positions[need] + " (entry " + need + " onward)");
            }
        }
        length = newLength;
        for (int l = 0; l < writtenEnd.length; l++) {
            writtenEnd[l] = Math.min(writtenEnd[l], newLength);
        }
        if (irregularFrom >= newLength) {
            irregularFrom = Integer.MAX_VALUE;
        }
    }

    /** Empties the cache (same as truncate(0)). */
    public void reset() {
        length = 0;
        Arrays.fill(writtenEnd, 0);
        irregularFrom = Integer.MAX_VALUE;
        Arrays.fill(oldest, 0);
        Arrays.fill(droppedMin, Integer.MAX_VALUE);
        Arrays.fill(droppedMax, Integer.MIN_VALUE);
    }
}
