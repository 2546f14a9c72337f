package dev.interlayer.models.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits input text at occurrences of added tokens (control, user-defined and unknown-type entries),
 * before the model's own normalisation and splitting, as both Hugging Face (AddedVocabulary) and
 * llama.cpp (tokenizer_st_partition) do. Matching is leftmost, longest token first at a position.
 * Control/unknown tokens match only when {@code parseSpecial}; user-defined tokens always match. A
 * tokenizer whose normalizer changes the text may leave tokens marked "normalized" to a second split
 * after normalization ({@code skipNormalized}).
 */
final class AddedTokenSplitter {

    /** A piece of input: raw text ({@code id < 0}) or one token id. */
    record Fragment(String text, int id) {
        boolean isToken() {
            return id >= 0;
        }
    }

    private final Vocabulary vocab;
    private final Map<Character, int[]> byFirstChar;   // first UTF-16 unit -> candidate ids, longest text first

    AddedTokenSplitter(Vocabulary vocab) {
        this(vocab, false);
    }

    /** @param skipNormalized leave out user-defined tokens that match in normalized text (the caller splits on them later) */
    AddedTokenSplitter(Vocabulary vocab, boolean skipNormalized) {
        this.vocab = vocab;
        Map<Character, List<Integer>> m = new HashMap<>();
        for (int id = 0; id < vocab.size(); id++) {
            TokenType t = vocab.type(id);
            String s = vocab.text(id);
            boolean later = skipNormalized && vocab.normalized(id) && t == TokenType.USER_DEFINED;
            if (!s.isEmpty() && !later
                    && (t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN)) {
                m.computeIfAbsent(s.charAt(0), k -> new ArrayList<>()).add(id);
            }
        }
        byFirstChar = new HashMap<>();
        m.forEach((c, list) -> {
            list.sort(Comparator.comparingInt((Integer id) -> -vocab.text(id).length()).thenComparingInt(id -> id));
            byFirstChar.put(c, list.stream().mapToInt(Integer::intValue).toArray());
        });
    }

    /** Fragments of {@code text} in order; raw fragments are never empty. */
    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            if (!text.isEmpty()) {
                out.add(new Fragment(text, -1));
            }
            return out;
        }
        int rawStart = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            int match = matchAt(text, i, parseSpecial);
            if (match < 0) {
                i++;
                continue;
            }
            int end = i + vocab.text(match).length();
            int rawEnd = i;
            if (vocab.lstrip(match)) {
                while (rawEnd > rawStart && Character.isWhitespace(text.charAt(rawEnd - 1))) {
                    rawEnd--;
                }
            }
            if (rawEnd > rawStart) {
                out.add(new Fragment(text.substring(rawStart, rawEnd), -1));
            }
            out.add(new Fragment(null, match));
            if (vocab.rstrip(match)) {
                while (end < n && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            i = end;
            rawStart = end;
        }
        if (rawStart < n) {
            out.add(new Fragment(text.substring(rawStart), -1));
        }
        return out;
    }

    private int matchAt(String text, int i, boolean parseSpecial) {
        int[] cands = byFirstChar.get(text.charAt(i));
        if (cands == null) {
            return -1;
        }
        for (int id : cands) {
            TokenType t = vocab.type(id);
            if (!parseSpecial && t != TokenType.USER_DEFINED) {
                continue;
            }
            if (text.startsWith(vocab.text(id), i)) {
                return id;
            }
        }
        return -1;
    }
}
