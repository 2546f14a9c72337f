package dev.interlayer.models.tokenizer;

import java.util.Arrays;

/** Growable int array (token id buffer); avoids boxing in the encode loops. */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    IntList() {
        this(16);
    }

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, a.length * 2);
        }
        a[n++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) {
            add(v);
        }
    }

    int size() {
        return n;
    }

    int get(int i) {
        return a[i];
    }

    void truncate(int size) {
        n = Math.min(n, size);
    }

    /** Reverses the elements from index {@code from} to the end. */
    void reverseFrom(int from) {
        for (int i = from, j = n - 1; i < j; i++, j--) {
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
