package dev.interlayer.models.tokenizer;

/**
 * SentencePiece Unigram segmentation as Hugging Face's {@code Unigram} model does it: the split of a word
 * into vocabulary pieces with the highest total log-probability (Viterbi over character positions; on
 * equal totals the path found first wins, i.e. the earlier start, then the shorter piece). A character
 * that starts no one-character piece may also be covered by an "unknown" piece scored
 * {@code min(score) - 10}; consecutive unknown characters are fused into one, which becomes its
 * {@code <0xNN>} byte tokens when {@code byte_fallback} and all exist, else the unk id.
 *
 * <p>Shapes: {@code scores[modelSize]} log-probabilities of ids {@code [0, modelSize)}; added tokens
 * beyond {@code modelSize} are not pieces.
 */
final class UnigramModel {
    private static final double UNK_PENALTY = 10.0;   // Hugging Face's K_UNK_PENALTY

    private final Vocabulary vocab;
    private final double[] scores;   // [modelSize]
    private final int unk;           // -1: none
    private final double unkScore;
    private final boolean byteFallback;
    private final int[] byteTokens;  // [256] id of <0xNN>, or -1
    private final int maxPieceChars; // longest piece in code points

    /**
     * @param scores log-probability of each model piece (ids {@code [0, scores.length)})
     * @param unk    id of the unknown piece, or -1
     */
    UnigramModel(Vocabulary vocab, double[] scores, int unk, boolean byteFallback) {
        if (scores.length == 0 || scores.length > vocab.size()) {
            throw new IllegalArgumentException("unigram: " + scores.length + " scores for a vocabulary of " + vocab.size());
        }
        this.vocab = vocab;
        this.scores = scores.clone();
        this.unk = unk;
        this.byteFallback = byteFallback;
        double min = Double.POSITIVE_INFINITY;
        int longest = 1;
        for (int id = 0; id < scores.length; id++) {
            min = Math.min(min, scores[id]);
            String t = vocab.text(id);
            longest = Math.max(longest, t.codePointCount(0, t.length()));
        }
        this.unkScore = min - UNK_PENALTY;
        this.maxPieceChars = longest;
        this.byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = piece(String.format("<0x%02X>", b));
        }
    }

    /** Id of model piece {@code s}, or -1 (added tokens are not pieces). */
    private int piece(String s) {
        int id = vocab.id(s);
        return id < scores.length ? id : -1;
    }

    /** Appends the ids of the best segmentation of {@code word}. */
    void tokenize(String word, IntList out) {
        int n = word.codePointCount(0, word.length());
        if (n == 0) {
            return;
        }
        int[] off = new int[n + 1];     // [n + 1] char offset of each code point, and the end
        for (int i = 0, o = 0; i < n; i++) {
            off[i] = o;
            o += Character.charCount(word.codePointAt(o));
        }
        off[n] = word.length();
        double[] best = new double[n + 1];   // [n + 1] best total score of a path ending at position
        int[] from = new int[n + 1];         // [n + 1] start of that path's last piece, -1 = none yet
        int[] ids = new int[n + 1];          // [n + 1] that piece's id, -2 = unknown character
        java.util.Arrays.fill(from, -1);
        for (int s = 0; s < n; s++) {
            boolean single = false;
            for (int len = 1; len <= Math.min(maxPieceChars, n - s); len++) {
                int id = piece(word.substring(off[s], off[s + len]));
                if (id >= 0) {
                    relax(best, from, ids, s, s + len, best[s] + scores[id], id);
                    single |= len == 1;
                }
            }
            if (!single) {
                relax(best, from, ids, s, s + 1, best[s] + unkScore, -2);
            }
        }
        // Walk back from the end, fusing runs of unknown pieces; emit in reverse, then flip.
        int mark = out.size();
        int end = n;
        while (end > 0) {
            int start = from[end];
            if (isUnk(ids[end])) {
                while (start > 0 && isUnk(ids[start])) {
                    start = from[start];
                }
                emitUnknown(word.substring(off[start], off[end]), out);
            } else {
                out.add(ids[end]);
            }
            end = start;
        }
        out.reverseFrom(mark);
    }

    private boolean isUnk(int id) {
        return id == -2 || (id == unk && unk >= 0);
    }

    private static void relax(double[] best, int[] from, int[] ids, int s, int e, double score, int id) {
        if (from[e] < 0 || score > best[e]) {
            best[e] = score;
            from[e] = s;
            ids[e] = id;
        }
    }

    /** A fused run of unknown characters: itself if a piece, else its byte tokens (when all exist), else unk. */
    private void emitUnknown(String s, IntList out) {
        int id = piece(s);
        if (id >= 0) {
            out.add(id);
            return;
        }
        byte[] bytes = AbstractTokenizer.utf8(s);
        boolean all = byteFallback;
        for (int k = 0; k < bytes.length && all; k++) {
            all = byteTokens[bytes[k] & 0xFF] >= 0;
        }
        if (all) {   // added in reverse: the whole output of this word is flipped at the end
            for (int k = bytes.length - 1; k >= 0; k--) {
                out.add(byteTokens[bytes[k] & 0xFF]);
            }
        } else if (unk >= 0) {
            out.add(unk);
        }
    }
}
