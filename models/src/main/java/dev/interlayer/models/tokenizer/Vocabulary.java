package dev.interlayer.models.tokenizer;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Token table shared by all tokenizer kinds: id -> text, type and score, text -> id, named special
 * ids ({@code bos}, {@code eos}, {@code unk}, {@code pad}, {@code cls}, {@code sep}, {@code mask}) and
 * the strip flags of added tokens. Immutable after construction.
 *
 * <p>Shapes: {@code texts}, {@code types}, {@code scores} all have length {@link #size()}.
 */
final class Vocabulary {
    private final String[] texts;      // [n] token text as stored by the model format
    private final TokenType[] types;   // [n]
    private final float[] scores;      // [n] SentencePiece log-probabilities (0 when the format has none)
    private final boolean[] lstrip;    // [n] added token swallows whitespace on its left
    private final boolean[] rstrip;    // [n] ... and on its right
    private final boolean[] normalized; // [n] added token matched in normalized text (HF "normalized": true)
    // text -> id: open addressing over the texts (slot -> id + 1, 0 = empty), 4-8 bytes a token instead of a
    // HashMap node and a boxed id (~50 bytes): with 128k+ tokens the difference is megabytes of resident heap
    private final int[] index;
    private final Map<String, Integer> specials;

    Vocabulary(String[] texts, TokenType[] types, float[] scores, Map<String, Integer> specials) {
        int n = texts.length;
        if (types.length != n || (scores != null && scores.length != n)) {
            throw new IllegalArgumentException("vocabulary: tokens, types and scores need equal lengths (got "
                    + n + ", " + types.length + ", " + (scores == null ? "none" : scores.length) + ")");
        }
        this.texts = texts.clone();
        this.types = types.clone();
        this.scores = scores == null ? new float[n] : scores.clone();
        this.lstrip = new boolean[n];
        this.rstrip = new boolean[n];
        this.normalized = new boolean[n];
        this.index = new int[Integer.highestOneBit(Math.max(2, n) * 2 - 1) * 2];   // power of two >= 2n
        for (int i = 0; i < n; i++) {
            Objects.requireNonNull(texts[i], () -> "vocabulary: token text is null");
            // First id wins for duplicate texts, as in llama.cpp's token_to_id map built in id order.
            int slot = find(texts[i]);
            if (index[slot] == 0) {
                index[slot] = i + 1;
            }
        }
        Map<String, Integer> sp = new HashMap<>();
        specials.forEach((name, id) -> {
            if (id != null && id >= 0 && id < n) {
                sp.put(name, id);
            } else if (id != null && id >= 0) {
                throw new IllegalArgumentException("vocabulary: special token '" + name + "' has id " + id
                        + " but the vocabulary has " + n + " tokens");
            }
        });
        this.specials = Collections.unmodifiableMap(sp);
    }

    int size() {
        return texts.length;
    }

    String text(int id) {
        check(id);
        return texts[id];
    }

    TokenType type(int id) {
        check(id);
        return types[id];
    }

    float score(int id) {
        return scores[id];
    }

    /** Id of {@code text}, or -1. */
    int id(String text) {
        return index[find(text)] - 1;
    }

    /** The slot holding {@code text}'s id, or the empty slot where it would go. */
    private int find(String text) {
        int mask = index.length - 1;
        int slot = (text.hashCode() * 0x9E3779B9) >>> Integer.numberOfLeadingZeros(mask);
        int v;
        while ((v = index[slot]) != 0 && !texts[v - 1].equals(text)) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    OptionalInt special(String name) {
        Integer i = specials.get(name);
        return i == null ? OptionalInt.empty() : OptionalInt.of(i);
    }

    /** Special id or -1. */
    int specialOr(String name) {
        Integer i = specials.get(name);
        return i == null ? -1 : i;
    }

    Map<String, Integer> specials() {
        return specials;
    }

    boolean lstrip(int id) {
        return lstrip[id];
    }

    boolean rstrip(int id) {
        return rstrip[id];
    }

    void setStrip(int id, boolean left, boolean right) {
        check(id);
        lstrip[id] = left;
        rstrip[id] = right;
    }

    /** True if added token {@code id} is matched in the normalized text rather than the raw input. */
    boolean normalized(int id) {
        return normalized[id];
    }

    void setNormalized(int id, boolean value) {
        check(id);
        normalized[id] = value;
    }

    /** Changes the type of one token (used when added tokens of tokenizer.json override the model vocabulary). */
    void setType(int id, TokenType type) {
        check(id);
        types[id] = type;
    }

    private void check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " outside vocabulary [0, " + texts.length + ")");
        }
    }

    @Override
    public String toString() {
        return "Vocabulary[" + texts.length + " tokens, specials " + specials + ", first "
                + Arrays.toString(Arrays.copyOf(texts, Math.min(5, texts.length))) + "]";
    }
}
