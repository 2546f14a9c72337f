package dev.interlayer.models.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Byte-level BPE (GPT-2, Llama 3, Qwen2, DeepSeek, Falcon, StarCoder, MPT, ...): split text into
 * words with the family's {@link PreTokenizerRegex}, map each word's UTF-8 bytes to characters with
 * {@link ByteLevel}, then repeatedly merge the adjacent pair with the lowest merge rank (leftmost pair
 * on ties) until no listed merge applies; each final symbol is a vocabulary token.
 */
public final class ByteLevelBpeTokenizer extends AbstractTokenizer {
    private final LongIntTable ranks;           // (left id << 32 | right id) -> merge rank (lower merges first)
    private final Map<String, Integer> oddRanks; // "left right" -> rank for merges with a part outside the vocabulary
    private final PreTokenizerRegex pre;
    private final boolean addPrefixSpace;
    private final boolean ignoreMerges;         // whole word in vocabulary wins (Llama 3's tokenizer.json)

    ByteLevelBpeTokenizer(Vocabulary vocab, List<String[]> merges, PreTokenizerRegex pre, boolean addPrefixSpace,
                          boolean ignoreMerges, int[] prefix, int[] suffix, int maxLength) {
        super(vocab, prefix, suffix, maxLength, id -> render(vocab, id));
        this.ranks = new LongIntTable(merges.size());
        this.oddRanks = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            int l = vocab.id(m[0]);
            int r = vocab.id(m[1]);
            if (l >= 0 && r >= 0) {
                ranks.putIfAbsent(pair(l, r), i);   // the first listing of a pair wins
            } else {
                oddRanks.putIfAbsent(m[0] + " " + m[1], i);   // kept by text: its symbols have no id to pair
            }
        }
        this.pre = pre;
        this.addPrefixSpace = addPrefixSpace;
        this.ignoreMerges = ignoreMerges;
    }

    private static byte[] render(Vocabulary vocab, int id) {
        TokenType t = vocab.type(id);
        String text = vocab.text(id);
        byte[] b = t == TokenType.NORMAL || t == TokenType.UNDEFINED || t == TokenType.UNUSED
                ? ByteLevel.decode(text) : null;
        // Added/control tokens are stored as plain text, not byte-level characters.
        return b != null ? b : utf8(text);
    }

    @Override
    void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out) {
        if (addPrefixSpace && !text.startsWith(" ")) {
            text = " " + text;
        }
        for (String word : pre.split(text)) {
            bpe(ByteLevel.encode(word), out);
        }
    }

    // ---- BPE merge loop (linked symbols + priority queue, stale entries skipped) ----

    private record Pair(int rank, int left, int len) {
    }

    private void bpe(String word, IntList out) {
        if (ignoreMerges) {
            int id = vocab.id(word);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        int n = word.length();   // byte-level chars are all in the BMP: one char per symbol initially
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Pair> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) {
            addPair(word, i, i + 1, start, len, queue);
        }
        while (!queue.isEmpty()) {
            Pair p = queue.poll();
            int l = p.left;
            int r = next[l];
            if (len[l] == 0 || r < 0 || len[l] + len[r] != p.len) {
                continue;   // one side was merged since this pair was queued
            }
            mergeIntoLeft(len, prev, next, l, r);
            if (prev[l] >= 0) {
                addPair(word, prev[l], l, start, len, queue);
            }
            if (next[l] >= 0) {
                addPair(word, l, next[l], start, len, queue);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) {
            String sym = word.substring(start[i], start[i] + len[i]);
            int id = vocab.id(sym);
            if (id >= 0) {
                out.add(id);
            } else {
                // No token for a symbol (a byte missing from the vocabulary): emit what exists per char.
                for (int k = 0; k < sym.length(); k++) {
                    int cid = vocab.id(sym.substring(k, k + 1));
                    if (cid >= 0) {
                        out.add(cid);
                    }
                }
            }
        }
    }

    private void addPair(String word, int l, int r, int[] start, int[] len, PriorityQueue<Pair> queue) {
        String a = word.substring(start[l], start[l] + len[l]);
        String b = word.substring(start[r], start[r] + len[r]);
        int la = vocab.id(a);
        int rb = vocab.id(b);
        int rank = la >= 0 && rb >= 0 ? ranks.get(pair(la, rb)) : -1;
        if (rank < 0 && !oddRanks.isEmpty()) {
            rank = oddRanks.getOrDefault(a + " " + b, -1);
        }
        if (rank >= 0) {
            queue.add(new Pair(rank, l, len[l] + len[r]));
        }
    }

    private static long pair(int left, int right) {
        return (long) left << 32 | right;
    }

    @Override
    boolean stripFirstSpace() {
        return addPrefixSpace;
    }
}
