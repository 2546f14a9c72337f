package dev.interlayer.models.tokenizer;

import java.util.PriorityQueue;
import java.util.function.UnaryOperator;

/**
 * SentencePiece-style tokenizer: spaces become {@code ▁} (with a {@code ▁} prepended to a fragment as the
 * {@link Prefix} rule says), then each word is segmented by BPE or by a {@link UnigramModel}. BPE starts
 * from single characters and repeatedly merges an adjacent pair (leftmost on ties), then emits characters
 * that have no token as {@code <0xNN>} byte tokens. Two merge orders: llama.cpp's (GGUF
 * {@code tokenizer.ggml.model = llama}: highest score of the merged token first, any pair whose
 * concatenation is a token) and Hugging Face's BPE model (tokenizer.json of Llama 2 / Mistral: lowest
 * merge rank first, only listed pairs).
 */
public final class SpmTokenizer extends AbstractTokenizer {
    static final char SPACE = '\u2581';

    /** When a {@code ▁} is put in front of a raw text fragment (a piece of input between added tokens). */
    enum Prefix {
        /** Never. */
        NEVER,
        /** Every fragment (each starts the input or follows an added token): llama.cpp. */
        EVERY_FRAGMENT,
        /**
         * Hugging Face's Prepend normalizer: as EVERY_FRAGMENT, and added tokens marked "normalized" are
         * matched afterwards in the ▁-text, in their normalized form (▁ + content with spaces as ▁).
         */
        NORMALIZER,
        /** Metaspace {@code prepend_scheme "first"}: the fragment at input offset 0, unless it already starts with ▁. */
        FIRST,
        /** Metaspace {@code prepend_scheme "always"}: every fragment not already starting with ▁. */
        ALWAYS
    }

    /**
     * How to encode and decode.
     *
     * @param prefix          where a ▁ is prepended
     * @param splitWords      split the ▁-text before each ▁ and merge each word alone (Metaspace {@code split})
     * @param merges          Hugging Face merge ranks, or null for llama.cpp's score order
     * @param unigram         Unigram segmentation instead of BPE, or null
     * @param byteFallback    a character without a token becomes its {@code <0xNN>} tokens
     * @param unk             id emitted for a character that has neither (-1: dropped)
     * @param fuseUnk         consecutive unknown characters of a word give one unk id (HF {@code fuse_unk})
     * @param decodeBytes     {@code <0xNN>} tokens decode to their byte (HF ByteFallback decoder), not their text
     * @param firstToken      how decoding treats the first token
     * @param normalizer      text steps applied to each fragment first (e.g. Precompiled), or null
     * @param whitespaceSplit split the normalized fragment at whitespace (dropped) and prefix each word alone
     *                        (HF {@code WhitespaceSplit} before {@code Metaspace})
     */
    record Options(Prefix prefix, boolean splitWords, MergeRanks merges, UnigramModel unigram, boolean byteFallback, int unk,
                   boolean fuseUnk, boolean decodeBytes, FirstToken firstToken, UnaryOperator<String> normalizer,
                   boolean whitespaceSplit) {

        /** llama.cpp's SPM tokenizer: score order, per-byte fallback, ▁ prepended when {@code addSpacePrefix}. */
        static Options llamaCpp(Vocabulary vocab, boolean addSpacePrefix) {
            return new Options(addSpacePrefix ? Prefix.EVERY_FRAGMENT : Prefix.NEVER, false, null, null, true,
                    vocab.specialOr("unk"), false, true, addSpacePrefix ? FirstToken.STRIP_SPACE : FirstToken.KEEP, null,
                    false);
        }
    }

    /** What decoding does to the first token of the output. */
    enum FirstToken {
        /** Nothing. */
        KEEP,
        /** Drop one leading space of the text (HF Strip decoder after Fuse; llama.cpp with add_space_prefix). */
        STRIP_SPACE,
        /** Drop every ▁ of the first token (HF's Rust Metaspace decoder; transformers.js drops only a leading one). */
        DROP_META
    }

    private final Options opt;
    private final String[][] lateTokens;   // {normalized text, id} of "normalized" added tokens, longest first
    private final int[] byteTokens;   // [256] id of <0xNN>, or -1

    SpmTokenizer(Vocabulary vocab, Options opt, int[] prefix, int[] suffix, int maxLength) {
        super(vocab, prefix, suffix, maxLength, id -> render(vocab, id, opt.decodeBytes), opt.prefix == Prefix.NORMALIZER);
        this.opt = opt;
        this.lateTokens = opt.prefix == Prefix.NORMALIZER ? normalizedAddedTokens(vocab) : new String[0][];
        this.byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80 && opt.merges == null) {
                id = vocab.id(String.valueOf((char) b));   // llama.cpp: an ASCII byte may be its own character token
            }
            byteTokens[b] = id;
        }
    }

    private static byte[] render(Vocabulary vocab, int id, boolean decodeBytes) {
        String t = vocab.text(id);
        TokenType type = vocab.type(id);
        if (decodeBytes && type == TokenType.BYTE && t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            if (!java.util.HexFormat.isHexDigit(t.charAt(3)) || !java.util.HexFormat.isHexDigit(t.charAt(4))) {
                throw new IllegalArgumentException("vocabulary token " + id + " '" + t
                        + "' is typed BYTE but is not <0xHH> with two hex digits");
            }
            return new byte[] {(byte) java.util.HexFormat.fromHexDigits(t, 3, 5)};
        }
        if (type == TokenType.NORMAL || type == TokenType.UNKNOWN || type == TokenType.UNDEFINED
                || type == TokenType.UNUSED || type == TokenType.BYTE) {
            return utf8(t.replace(SPACE, ' '));
        }
        return utf8(t);   // control and user-defined tokens render as stored
    }

    @Override
    void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out) {
        String norm = opt.normalizer == null ? text : opt.normalizer.apply(text);
        if (!opt.whitespaceSplit) {
            if (!norm.isEmpty()) {
                encodeWord(norm, afterSpecial, atStart, out);
            }
            return;
        }
        // WhitespaceSplit: words between runs of Unicode White_Space; each is its own pre-token for Metaspace
        int i = 0, n = norm.length();
        while (i < n) {
            while (i < n && isWhiteSpace(norm.codePointAt(i))) {
                i += Character.charCount(norm.codePointAt(i));
            }
            int from = i;
            while (i < n && !isWhiteSpace(norm.codePointAt(i))) {
                i += Character.charCount(norm.codePointAt(i));
            }
            if (i > from) {
                encodeWord(norm.substring(from, i), afterSpecial && from == 0, atStart && from == 0, out);
            }
        }
    }

    /** Unicode White_Space (Rust's {@code char::is_whitespace}): separators Zs/Zl/Zp, tab to CR, and NEL. */
    static boolean isWhiteSpace(int cp) {
        return Character.isSpaceChar(cp) || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85;
    }

    // One pre-token: spaces to ▁, the ▁ prefix as the Prefix rule says, then the model.
    private void encodeWord(String text, boolean afterSpecial, boolean atStart, IntList out) {
        String s = text.replace(' ', SPACE);
        boolean prepend = switch (opt.prefix) {
            case NEVER -> false;
            case EVERY_FRAGMENT -> afterSpecial;
            case NORMALIZER -> true;
            case FIRST -> atStart && s.charAt(0) != SPACE;
            case ALWAYS -> s.charAt(0) != SPACE;
        };
        if (prepend) {
            s = SPACE + s;
        }
        if (lateTokens.length > 0) {
            splitLate(s, out);
            return;
        }
        words(s, out);
    }

    /** Added tokens that Hugging Face matches after its Prepend/Replace normalizer, in that normalized form. */
    private static String[][] normalizedAddedTokens(Vocabulary vocab) {
        java.util.List<String[]> l = new java.util.ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            TokenType t = vocab.type(id);
            // Only user-defined ones: control tokens stay with the raw split, which honours parseSpecial.
            if (vocab.normalized(id) && t == TokenType.USER_DEFINED) {
                l.add(new String[] {SPACE + vocab.text(id).replace(' ', SPACE), String.valueOf(id)});
            }
        }
        l.sort((a, b) -> b[0].length() - a[0].length());
        return l.toArray(String[][]::new);
    }

    /** Splits the normalized text at "normalized" added tokens (leftmost, longest first), as HF's second pass does. */
    private void splitLate(String s, IntList out) {
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            for (String[] tok : lateTokens) {
                if (s.startsWith(tok[0], i)) {
                    if (i > from) {
                        words(s.substring(from, i), out);
                    }
                    out.add(Integer.parseInt(tok[1]));
                    from = i + tok[0].length();
                    i = from - 1;
                    break;
                }
            }
        }
        if (from < s.length()) {
            words(s.substring(from), out);
        }
    }

    private void words(String s, IntList out) {
        if (!opt.splitWords) {
            word(s, out);
            return;
        }
        // Metaspace split: each ▁ starts a new word (delimiter merged with what follows).
        int from = 0;
        for (int i = 1; i <= s.length(); i++) {
            if (i == s.length() || s.charAt(i) == SPACE) {
                word(s.substring(from, i), out);
                from = i;
            }
        }
    }

    private void word(String w, IntList out) {
        if (opt.unigram != null) {
            opt.unigram.tokenize(w, out);
        } else {
            new Session(w).tokenize(out);
        }
    }

    private record Bigram(float priority, int left, int right, int len) {
    }

    /** One word's merge state: symbols as [start, len) ranges of {@code text}, linked left/right. */
    private final class Session {
        private final String text;
        private final int[] start;
        private final int[] len;
        private final int[] prev;
        private final int[] next;
        // Highest priority first (score, or minus the HF rank), then leftmost.
        private final PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.priority != b.priority
                ? Float.compare(b.priority, a.priority) : Integer.compare(a.left, b.left));
        private boolean lastWasFusedUnk;

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
                mergeIntoLeft(len, prev, next, l, r);
                if (prev[l] >= 0) {
                    tryAdd(prev[l], l);
                }
                if (next[l] >= 0) {
                    tryAdd(l, next[l]);
                }
            }
            for (int i = 0; i >= 0; i = next[i]) {
                emit(i, out);
            }
        }

        private void tryAdd(int l, int r) {
            String s = text.substring(start[l], start[r] + len[r]);
            float priority;
            if (opt.merges == null) {
                int id = vocab.id(s);
                if (id < 0) {
                    return;
                }
                priority = vocab.score(id);
            } else {
                int a = vocab.id(text.substring(start[l], start[l] + len[l]));
                int b = vocab.id(text.substring(start[r], start[r] + len[r]));
                int rank = a < 0 || b < 0 ? -1 : opt.merges.rank(a, b);
                if (rank < 0) {
                    return;
                }
                priority = -rank;   // exact in float for ranks below 2^24
            }
            queue.add(new Bigram(priority, l, r, s.length()));
        }

        /** Emits a final symbol: merged symbols are tokens by construction; a lone character may not be. */
        private void emit(int sym, IntList out) {
            String s = text.substring(start[sym], start[sym] + len[sym]);
            int id = vocab.id(s);
            if (id >= 0) {
                out.add(id);
                lastWasFusedUnk = false;
                return;
            }
            byte[] bytes = utf8(s);
            if (opt.merges == null) {
                for (byte b : bytes) {   // llama.cpp: each byte on its own, unk where a byte token is missing
                    int bt = byteTokens[b & 0xFF];
                    if (bt >= 0 || opt.unk >= 0) {
                        out.add(bt >= 0 ? bt : opt.unk);
                    }
                }
                return;
            }
            boolean allBytes = opt.byteFallback;
            for (int k = 0; k < bytes.length && allBytes; k++) {
                allBytes = byteTokens[bytes[k] & 0xFF] >= 0;
            }
            if (allBytes) {   // Hugging Face: all of the character's byte tokens, else one unk
                for (byte b : bytes) {
                    out.add(byteTokens[b & 0xFF]);
                }
                lastWasFusedUnk = false;
            } else if (opt.unk >= 0 && !(opt.fuseUnk && lastWasFusedUnk)) {
                out.add(opt.unk);
                lastWasFusedUnk = opt.fuseUnk;
            }
        }
    }

    @Override
    boolean stripFirstSpace() {
        return opt.firstToken == FirstToken.STRIP_SPACE;
    }

    @Override
    byte[] firstPiece(int id) {
        if (opt.firstToken != FirstToken.DROP_META) {
            return null;
        }
        TokenType type = vocab.type(id);
        boolean text = type == TokenType.NORMAL || type == TokenType.UNKNOWN || type == TokenType.UNDEFINED
                || type == TokenType.UNUSED || (type == TokenType.BYTE && !opt.decodeBytes);
        // Allocates, but once per decoded text, not per token.
        return text ? utf8(vocab.text(id).replace(String.valueOf(SPACE), "")) : piece(id);
    }
}
