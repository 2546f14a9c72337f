package dev.interlayer.tensor.simd;

import java.util.Arrays;

/**
 * Top-k and top-p selection on packed {@code long} keys: the high half orders the value (descending,
 * NaN last, -0 equal to +0), the low half orders ties to the lower index. No boxing, one pass for
 * top-k (a size-k min-heap), one primitive sort for top-p.
 */
final class Selection {
    private Selection() {
    }

    // Larger key = ranks earlier.
    static long key(float value, int index) {
        int ordered;
        if (Float.isNaN(value)) {
            ordered = Integer.MIN_VALUE;
        } else {
            int bits = Float.floatToRawIntBits(value + 0f); // -0 + 0 = +0
            ordered = bits ^ ((bits >> 31) & 0x7FFF_FFFF);  // monotone in float order as a signed int
        }
        return ((long) ordered << 32) | (~index & 0xFFFF_FFFFL);
    }

    static int index(long key) {
        return ~(int) key;
    }

    /** Writes the m best of x[off, off+n) to values/indices, best first; returns m. */
    static int topK(float[] x, int off, int n, int m, float[] values, int[] indices) {
        if (m == 0) {
            return 0;
        }
        long[] heap = new long[m]; // min-heap of the best m keys seen so far
        int size = 0;
        for (int i = 0; i < n; i++) {
            long k = key(x[off + i], i);
            if (size < m) {
                int j = size++;
                while (j > 0 && heap[(j - 1) / 2] > k) {
                    heap[j] = heap[(j - 1) / 2];
                    j = (j - 1) / 2;
                }
                heap[j] = k;
            } else if (k > heap[0]) {
                int j = 0;
                while (true) {
                    int c = 2 * j + 1;
                    if (c >= m) {
                        break;
                    }
                    if (c + 1 < m && heap[c + 1] < heap[c]) {
                        c++;
                    }
                    if (heap[c] >= k) {
                        break;
                    }
                    heap[j] = heap[c];
                    j = c;
                }
                heap[j] = k;
            }
        }
        Arrays.sort(heap);
        for (int i = 0; i < m; i++) {
            int idx = index(heap[m - 1 - i]);
            indices[i] = idx;
            values[i] = x[off + idx];
        }
        return m;
    }

    /** Smallest best-first prefix of x[off, off+n) with mass >= p, written to indices; returns its length. */
    static int topP(float[] x, int off, int n, float p, int[] indices) {
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = key(x[off + i], i);
        }
        Arrays.sort(keys);
        double mass = 0;
        for (int i = 0; i < n; i++) {
            int idx = index(keys[n - 1 - i]);
            indices[i] = idx;
            mass += x[off + idx];
            if (mass >= p) {
                return i + 1;
            }
        }
        return n;
    }
}
