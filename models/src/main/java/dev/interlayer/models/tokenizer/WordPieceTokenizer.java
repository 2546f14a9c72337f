package dev.interlayer.models.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT's WordPiece: {@link BertNormalizer}, then the BERT pre-tokenizer (split at white space, which
 * is dropped, and around each punctuation character), then per word greedy longest-match-first
 * against the vocabulary, continuation pieces carrying the {@code ##} prefix; a word with no complete
 * segmentation, or longer than {@code maxInputCharsPerWord} code points, becomes the unknown token.
 * With special tokens the template (usually {@code [CLS] text [SEP]}) is applied.
 */
public final class WordPieceTokenizer extends AbstractTokenizer {
    private final BertNormalizer normalizer;
    private final String continuingPrefix;   // "##"
    private final int maxInputCharsPerWord;
    private final int unkId;

    WordPieceTokenizer(Vocabulary vocab, BertNormalizer normalizer, String continuingPrefix, int maxInputCharsPerWord,
                       int unkId, int[] prefix, int[] suffix, int maxLength) {
        super(vocab, prefix, suffix, maxLength, id -> {
            String t = vocab.text(id);   // "##piece" renders "piece", a word " word"
            return utf8(t.startsWith(continuingPrefix) && t.length() > continuingPrefix.length()
                    ? t.substring(continuingPrefix.length()) : " " + t);
        });
        if (unkId < 0 || unkId >= vocab.size()) {
            throw new IllegalArgumentException("WordPiece: unknown token id " + unkId + " outside vocabulary of "
                    + vocab.size());
        }
        this.normalizer = normalizer;
        this.continuingPrefix = continuingPrefix;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.unkId = unkId;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out) {
        String s = normalizer.normalize(text);
        for (String word : preTokenize(s)) {
            wordPiece(word, out);
        }
    }

    /** BertPreTokenizer: words separated by white space (removed) with each punctuation char on its own. */
    static List<String> preTokenize(String s) {
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            if (BertNormalizer.isWhitespace(cp)) {
                if (start >= 0) {
                    words.add(s.substring(start, i));
                    start = -1;
                }
            } else if (BertNormalizer.isPunctuation(cp)) {
                if (start >= 0) {
                    words.add(s.substring(start, i));
                    start = -1;
                }
                words.add(s.substring(i, i + len));
            } else if (start < 0) {
                start = i;
            }
            i += len;
        }
        if (start >= 0) {
            words.add(s.substring(start));
        }
        return words;
    }

    private void wordPiece(String word, IntList out) {
        if (word.codePointCount(0, word.length()) > maxInputCharsPerWord) {
            out.add(unkId);
            return;
        }
        int mark = out.size();
        int start = 0;
        int n = word.length();
        while (start < n) {
            int end = n;
            int found = -1;
            while (start < end) {
                String sub = word.substring(start, end);
                found = vocab.id(start > 0 ? continuingPrefix + sub : sub);
                if (found >= 0) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (found < 0) {
                out.truncate(mark);
                out.add(unkId);
                return;
            }
            out.add(found);
            start = end;
        }
    }

    @Override
    boolean stripFirstSpace() {
        return true;
    }

    /** Decoded text with the WordPiece decoder's cleanup (no space before . ? ! , and English contractions). */
    @Override
    public String decode(int[] ids, boolean renderSpecial) {
        return cleanup(super.decode(ids, renderSpecial));
    }

    static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't")
                .replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
    }
}
