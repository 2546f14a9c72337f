package dev.interlayer.models.tokenizer;

import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE over scores (GGUF {@code tokenizer.ggml.model = llama}), as llama.cpp's SPM
 * tokenizer: spaces become {@code ▁} (and one {@code ▁} is prepended when {@code add_space_prefix} and
 * the fragment starts the input or follows a special token); start from single characters and
 * repeatedly merge the adjacent pair whose concatenation is the highest-scoring vocabulary token
 * (leftmost on ties); symbols without a token are emitted as their UTF-8 bytes ({@code <0xNN>} tokens).
 */
public final class SpmTokenizer extends AbstractTokenizer {
    private static final char SPACE = '\u2581';

    private final boolean addSpacePrefix;
    private final int[] byteTokens;   // [256] id of <0xNN>, or -1

    SpmTokenizer(Vocabulary vocab, boolean addSpacePrefix, int[] prefix, int[] suffix, int maxLength) {
        super(vocab, prefix, suffix, maxLength, id -> render(vocab, id));
        this.addSpacePrefix = addSpacePrefix;
        this.byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = vocab.id(String.valueOf((char) b));
            }
            byteTokens[b] = id;
        }
    }

    private static byte[] render(Vocabulary vocab, int id) {
        String t = vocab.text(id);
        TokenType type = vocab.type(id);
        if (type == TokenType.BYTE && t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
        }
        if (type == TokenType.NORMAL || type == TokenType.UNKNOWN || type == TokenType.UNDEFINED
                || type == TokenType.UNUSED) {
            return utf8(t.replace(SPACE, ' '));
        }
        return utf8(t);   // control and user-defined tokens render as stored
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        String s = (addSpacePrefix && afterSpecial ? " " + text : text).replace(' ', SPACE);
        new Session(s).tokenize(out);
    }

    private record Bigram(float score, int left, int right, int len) {
    }

    /** One fragment's merge state: symbols as [start, len) ranges of {@code text}, linked left/right. */
    private final class Session {
        private final String text;
        private final int[] start;
        private final int[] len;
        private final int[] prev;
        private final int[] next;
        private final PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));

        Session(String text) {
            this.text = text;
            int n = text.codePointCount(0, text.length());
            start = new int[n];
            len = new int[n];
            prev = new int[n];
            next = new int[n];
            for (int i = 0, off = 0; i < n; i++) {
                int cl = Character.charCount(text.codePointAt(off));
                start[i] = off;
                len[i] = cl;
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
                off += cl;
            }
        }

        void tokenize(IntList out) {
            int n = start.length;
            if (n == 0) {
                return;
            }
            for (int i = 1; i < n; i++) {
                tryAdd(i - 1, i);
            }
            while (!queue.isEmpty()) {
                Bigram b = queue.poll();
                int l = b.left;
                int r = b.right;
                if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.len) {
                    continue;   // stale: one side already merged
                }
                len[l] += len[r];
                len[r] = 0;
                next[l] = next[r];
                if (next[r] >= 0) {
                    prev[next[r]] = l;
                }
                if (prev[l] >= 0) {
                    tryAdd(prev[l], l);
                }
                if (next[l] >= 0) {
                    tryAdd(l, next[l]);
                }
            }
            for (int i = 0; i >= 0; i = next[i]) {
                resegment(i, out);
            }
        }

        private void tryAdd(int l, int r) {
            String s = text.substring(start[l], start[r] + len[r]);
            int id = vocab.id(s);
            if (id < 0) {
                return;
            }
            queue.add(new Bigram(vocab.score(id), l, r, s.length()));
        }

        /** Emits a final symbol: merged symbols are tokens by construction; a lone character may not be. */
        private void resegment(int sym, IntList out) {
            String s = text.substring(start[sym], start[sym] + len[sym]);
            int id = vocab.id(s);
            if (id >= 0) {
                out.add(id);
                return;
            }
            for (byte b : utf8(s)) {
                int bt = byteTokens[b & 0xFF];
                if (bt >= 0) {
                    out.add(bt);
                } else if (vocab.specialOr("unk") >= 0) {
                    out.add(vocab.specialOr("unk"));
                }
            }
        }
    }

    @Override
    boolean stripFirstSpace() {
        return addSpacePrefix;
    }
}
