package dev.interlayer.models.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Incremental detokenizer: feed ids one at a time, get back only text made of complete UTF-8
 * characters; bytes of a character split across tokens (byte-fallback or byte-level pieces) are held
 * until the character is complete. Concatenating all outputs and {@link #flush()} equals
 * {@link Tokenizer#decode(int[])} of the whole id sequence (except WordPiece's punctuation cleanup,
 * which needs look-ahead). Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {
    private final AbstractTokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(16);
    private boolean first = true;

    StreamingDecoder(AbstractTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds token {@code id}; returns the newly completed text (possibly empty). */
    public String next(int id) {
        first = tokenizer.appendPiece(id, false, first, pending);
        byte[] b = pending.toByteArray();
        int complete = completePrefix(b);
        if (complete == 0) {
            return "";
        }
        String s = new String(b, 0, complete, StandardCharsets.UTF_8);
        pending.reset();
        pending.write(b, complete, b.length - complete);
        return s;
    }

    /** Emits whatever is held (an incomplete character becomes U+FFFD) and resets to a fresh stream. */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        first = true;
        return s;
    }

    /**
     * Length of the longest prefix of {@code b} that does not end inside a UTF-8 character that could
     * still be completed. Invalid bytes count as complete (they decode to U+FFFD either way).
     */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // Look back at most 3 bytes for the lead byte of the last character.
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
