package dev.interlayer.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Incremental detokenizer: feed ids one at a time, get back only text made of complete UTF-8
 * characters; bytes of a character split across tokens (byte-fallback or byte-level pieces) are held
 * until the character is complete. Concatenating all outputs and {@link #flush()} equals
 * {@link Tokenizer#decode(int[])} of the whole id sequence (except WordPiece's punctuation cleanup,
 * which needs look-ahead). Control tokens are skipped. Not thread-safe: one decoder per stream.
 *
 * <p>A continuation of a prompt is decoded as the tail of the whole text: {@link #prime} the decoder with
 * the prompt's ids first, so that the first generated token renders as it does mid-text ({@code "▁was"}
 * after "The dog" is " was"; a fresh decoder would drop that space as the start of a text).
 */
public final class StreamingDecoder {
    private final AbstractTokenizer tokenizer;
    private byte[] pending = new byte[64];   // bytes not yet emitted; at most 3 carried between calls
    private int n;
    private boolean first = true;

    StreamingDecoder(AbstractTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds token {@code id}; returns the newly completed text (possibly empty).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String next(int id) {
        add(id);
        return takeComplete();
    }

    /**
     * Feeds {@code ids} (e.g. the prompt) as already shown: nothing is emitted for them, but the tokens that
     * follow render as continuations of their text. Bytes of a character the context leaves unfinished are
     * kept, so the first {@link #next} that completes it emits the whole character.
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public void prime(int... ids) {
        for (int id : ids) {
            add(id);
            int complete = completePrefix(pending, n);
            System.arraycopy(pending, complete, pending, 0, n - complete);
            n -= complete;
        }
    }

    private void add(int id) {
        if (!tokenizer.isSpecial(id)) {
            byte[] fp = first ? tokenizer.firstPiece(id) : null;
            if (fp != null) {
                append(fp, 0);
                first = false;
            } else {
                byte[] p = tokenizer.piece(id);
                int from = first && tokenizer.stripFirstSpace() && p.length > 0 && p[0] == ' ' ? 1 : 0;
                append(p, from);
                first &= p.length == 0;
            }
        }
    }

    private String takeComplete() {
        int complete = completePrefix(pending, n);
        if (complete == 0) {
            return "";
        }
        String s = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, n - complete);
        n -= complete;
        return s;
    }

    /** Emits whatever is held (an incomplete character becomes U+FFFD) and resets to a fresh stream. */
    public String flush() {
        String s = new String(pending, 0, n, StandardCharsets.UTF_8);
        n = 0;
        first = true;
        return s;
    }

    private void append(byte[] p, int from) {
        int len = p.length - from;
        if (n + len > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, n + len));
        }
        System.arraycopy(p, from, pending, n, len);
        n += len;
    }

    /** {@link #completePrefix(byte[], int)} over the whole array. */
    static int completePrefix(byte[] b) {
        return completePrefix(b, b.length);
    }

    /**
     * Length of the longest prefix of {@code b[0, n)} that does not end inside a UTF-8 character that
     * could still be completed. Invalid bytes count as complete (they decode to U+FFFD either way).
     */
    static int completePrefix(byte[] b, int n) {
        // Look back at most 4 bytes for the lead byte of the last character.
        for (int back = 1; back <= Math.min(4, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue;   // continuation byte: keep looking for the lead
            }
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 1;
            return back < need ? n - back : n;
        }
        return n;
    }
}
