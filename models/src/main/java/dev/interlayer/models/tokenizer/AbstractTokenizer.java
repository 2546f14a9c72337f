package dev.interlayer.models.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.IntFunction;

/**
 * Shared encode/decode frame: added-token splitting, the special-token template (prefix ids, text,
 * suffix ids), truncation, and decoding from per-token byte pieces. Subclasses supply the model
 * ({@link #encodeText}) and the byte rendering of each token (the {@code render} constructor argument).
 */
abstract class AbstractTokenizer implements Tokenizer {
    final Vocabulary vocab;
    private final AddedTokenSplitter splitter;
    private final int[] prefix;       // ids added before the text when addSpecial (BOS, [CLS])
    private final int[] suffix;       // ids added after the text when addSpecial (EOS, [SEP])
    private final int maxLength;
    private final byte[][] pieces;    // [n] bytes each token renders to mid-text

    /** {@code render} gives the bytes token {@code id} renders to in the middle of a text (control tokens: their text). */
    AbstractTokenizer(Vocabulary vocab, int[] prefix, int[] suffix, int maxLength, IntFunction<byte[]> render) {
        this(vocab, prefix, suffix, maxLength, render, false);
    }

    /** As above; {@code normalizedTokensLater}: added tokens marked "normalized" are left to {@link #encodeText}. */
    AbstractTokenizer(Vocabulary vocab, int[] prefix, int[] suffix, int maxLength, IntFunction<byte[]> render,
                      boolean normalizedTokensLater) {
        this.vocab = vocab;
        this.splitter = new AddedTokenSplitter(vocab, normalizedTokensLater);
        this.prefix = prefix.clone();
        this.suffix = suffix.clone();
        this.maxLength = maxLength;
        for (int id : prefix) {
            vocab.text(id);   // validates the id
        }
        for (int id : suffix) {
            vocab.text(id);
        }
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = render.apply(id);
        }
    }

    // ---- model hooks ----

    /**
     * Appends the ids of one raw text fragment (no added tokens inside).
     *
     * @param afterSpecial the fragment starts the input or follows an added/special token
     * @param atStart      the fragment starts at offset 0 of the input (Metaspace's prepend_scheme "first")
     */
    abstract void encodeText(String text, boolean afterSpecial, boolean atStart, IntList out);

    /** Bytes that token {@code id} renders to in the middle of a text (control tokens: their text). */
    final byte[] piece(int id) {
        return pieces[id];
    }

    /** True if the first rendered piece loses one leading space (SentencePiece's add-space-prefix, WordPiece's joiner). */
    abstract boolean stripFirstSpace();

    /**
     * Bytes of token {@code id} when it is the first token emitted (skipped special tokens do not count), or
     * null for the usual rule ({@link #piece} less one leading space if {@link #stripFirstSpace}, and an
     * empty first piece passes that on to the next token). Non-null also makes the next token not first.
     */
    byte[] firstPiece(int id) {
        return null;
    }

    // ---- encode ----

    @Override
    public final int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial) {
            out.addAll(prefix);
        }
        encodeBody(text, parseSpecial, out);
        if (addSpecial) {
            out.addAll(suffix);
        }
        return out.toArray();
    }

    @Override
    public final int[] encode(String text, int maxTokens) {
        int room = maxTokens - prefix.length - suffix.length;
        if (room < 0) {
            throw new IllegalArgumentException("encode: maxTokens " + maxTokens + " cannot hold the "
                    + (prefix.length + suffix.length) + " special tokens the template adds");
        }
        IntList out = new IntList(Math.min(maxTokens, 1 << 16));
        out.addAll(prefix);
        IntList body = new IntList();
        encodeBody(text, false, body);
        body.truncate(room);
        for (int i = 0; i < body.size(); i++) {
            out.add(body.get(i));
        }
        out.addAll(suffix);
        return out.toArray();
    }

    private void encodeBody(String text, boolean parseSpecial, IntList out) {
        if (text == null) {
            throw new NullPointerException("encode: text is null");
        }
        List<AddedTokenSplitter.Fragment> frags = splitter.split(text, parseSpecial);
        boolean afterSpecial = true;
        boolean atStart = true;
        for (AddedTokenSplitter.Fragment f : frags) {
            if (f.isToken()) {
                out.add(f.id());
                afterSpecial = true;
            } else {
                encodeText(f.text(), afterSpecial, atStart, out);
                afterSpecial = false;
            }
            atStart = false;
        }
    }

    // ---- decode ----

    @Override
    public String decode(int[] ids, boolean renderSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        boolean first = true;
        for (int id : ids) {
            first = appendPiece(id, renderSpecial, first, bytes);
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    /** Appends the bytes of {@code id}; returns the new value of "nothing emitted yet". */
    final boolean appendPiece(int id, boolean renderSpecial, boolean first, ByteArrayOutputStream sink) {
        if (isSpecial(id) && !renderSpecial) {   // isSpecial first: it rejects an id outside the vocabulary
            return first;
        }
        byte[] fp = first ? firstPiece(id) : null;
        if (fp != null) {
            sink.write(fp, 0, fp.length);
            return false;
        }
        byte[] p = piece(id);
        int from = first && stripFirstSpace() && p.length > 0 && p[0] == ' ' ? 1 : 0;
        sink.write(p, from, p.length - from);
        return first && p.length == 0;
    }

    @Override
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    // ---- vocabulary ----

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public String tokenText(int id) {
        return vocab.text(id);
    }

    @Override
    public OptionalInt tokenId(String text) {
        int id = vocab.id(text);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public OptionalInt special(String name) {
        return vocab.special(name);
    }

    @Override
    public boolean isSpecial(int id) {
        TokenType t = vocab.type(id);
        return t == TokenType.CONTROL;
    }

    @Override
    public int maxLength() {
        return maxLength;
    }

    /**
     * Merges symbol {@code r} into its left neighbour {@code l} in the doubly linked symbol list of a BPE/SPM
     * merge loop ({@code len}: byte length, 0 once merged away; {@code prev}/{@code next}: neighbours, -1 at the
     * ends): l grows by r's bytes and r leaves the list.
     */
    static void mergeIntoLeft(int[] len, int[] prev, int[] next, int l, int r) {
        len[l] += len[r];
        len[r] = 0;
        next[l] = next[r];
        if (next[r] >= 0) {
            prev[next[r]] = l;
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
