package dev.interlayer.models.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SentencePiece's precompiled normalization map (the {@code Precompiled} normalizer of T5, ALBERT and XLM-R
 * tokenizer.json files, {@code normalizer_spec.precompiled_charsmap} in a {@code .model}): a Darts
 * double-array trie (Yata et al., "A Compact Static Double-Array Keeping Character Codes", 2007) whose keys
 * are UTF-8 source strings and whose values are offsets into a blob of NUL-terminated replacement strings.
 *
 * <p>Layout: {@code u32 trieBytes} (little-endian), {@code trieBytes / 4} little-endian u32 units, then the
 * replacement blob. A unit packs: bit 8 = has a leaf, bits 0-7 = label byte (bit 31 also set for a leaf
 * unit's value), offset = {@code (u >>> 10) << ((u & 0x200) >>> 6)}; a leaf unit's value is {@code u & 0x7fffffff}.
 *
 * <p>Normalization follows Hugging Face's {@code Precompiled} normalizer exactly, quirks included: for each
 * extended grapheme cluster shorter than 6 UTF-8 bytes, the <em>shortest</em> trie key that is a prefix of the
 * cluster replaces the whole cluster; otherwise each code point is looked up alone the same way and kept
 * when it has no entry.
 */
final class PrecompiledCharsMap {
    private static final Pattern GRAPHEME = Pattern.compile("\\X");

    private final int[] units;
    private final byte[] strings;

    private PrecompiledCharsMap(int[] units, byte[] strings) {
        this.units = units;
        this.strings = strings;
    }

    /**
     * Parses the serialized map.
     *
     * @throws IllegalArgumentException naming the problem if the bytes are not such a map
     */
    static PrecompiledCharsMap parse(byte[] blob) {
        if (blob.length < 4) {
            throw new IllegalArgumentException("precompiled_charsmap: " + blob.length + " bytes, need at least 4");
        }
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = b.getInt(0) & 0xFFFFFFFFL;
        if (trieBytes % 4 != 0 || trieBytes == 0 || trieBytes > blob.length - 4) {
            throw new IllegalArgumentException("precompiled_charsmap: trie size " + trieBytes + " must be a positive"
                    + " multiple of 4 within the " + (blob.length - 4) + " bytes after the header");
        }
        int[] units = new int[(int) (trieBytes / 4)];
        for (int i = 0; i < units.length; i++) {
            units[i] = b.getInt(4 + 4 * i);
        }
        byte[] strings = java.util.Arrays.copyOfRange(blob, 4 + (int) trieBytes, blob.length);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(strings));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("precompiled_charsmap: replacement strings are not valid UTF-8", e);
        }
        return new PrecompiledCharsMap(units, strings);
    }

    /** {@code text} normalized as Hugging Face's Precompiled normalizer does. */
    String normalize(String text) {
        StringBuilder out = new StringBuilder(text.length());
        Matcher m = GRAPHEME.matcher(text);
        while (m.find()) {
            String g = m.group();
            byte[] utf8 = g.getBytes(StandardCharsets.UTF_8);
            String whole = utf8.length < 6 ? transform(utf8) : null;
            if (whole != null) {
                out.append(whole);
                continue;
            }
            for (int i = 0; i < g.length(); ) {
                int cp = g.codePointAt(i);
                int n = Character.charCount(cp);
                String one = transform(g.substring(i, i + n).getBytes(StandardCharsets.UTF_8));
                if (one != null) {
                    out.append(one);
                } else {
                    out.appendCodePoint(cp);
                }
                i += n;
            }
        }
        return out.toString();
    }

    /** Replacement for the shortest key that is a prefix of {@code key}, or null if none is. */
    private String transform(byte[] key) {
        int value = firstPrefixValue(key);
        if (value < 0 || value >= strings.length) {
            return null;
        }
        int end = value;
        while (end < strings.length && strings[end] != 0) {
            end++;
        }
        return new String(strings, value, end - value, StandardCharsets.UTF_8);
    }

    /** Darts common-prefix search stopped at the first (shortest) hit: its value, or -1. */
    private int firstPrefixValue(byte[] key) {
        int pos = offset(units[0]);
        for (byte kb : key) {
            int c = kb & 0xFF;
            if (c == 0) {
                break;
            }
            pos ^= c;
            if (pos < 0 || pos >= units.length) {
                return -1;                            // off the array: no such key (or a damaged map)
            }
            int u = units[pos];
            if ((u & (0x80000000 | 0xFF)) != c) {     // label check (a leaf unit has bit 31 set, so never matches)
                return -1;
            }
            pos ^= offset(u);
            if (((u >>> 8) & 1) == 1) {
                return pos >= 0 && pos < units.length ? units[pos] & 0x7FFFFFFF : -1;
            }
        }
        return -1;
    }

    private static int offset(int u) {
        return (u >>> 10) << ((u & 0x200) >>> 6);
    }
}
