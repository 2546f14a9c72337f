package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Properties of the lossless tokenizers (SentencePiece BPE with byte fallback, byte-level BPE):
 * {@code decode(encode(s)) == s} for valid Unicode text, and the streaming decoder emits the same text
 * as {@code decode}, never a partial character. Seeded harness: on failure the seed, try index and
 * input are printed.
 */
class RoundTripTest {
    private static final long SEED = 0x70C0FFEEL;
    private static final int TRIES = 300;
    private static final String PUNCT = " \n\t  .,!?'\"-()[]<>{}0123456789";

    /** Random valid text: ASCII words/space/punctuation/newlines, Latin-1, Cyrillic, CJK, emoji, combining marks, any plane. */
    static String randomText(SplittableRandom rng) {
        int n = rng.nextInt(0, 40);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int cp = switch (rng.nextInt(9)) {
                case 0, 1 -> rng.nextInt('a', 'z' + 1);
                case 2 -> PUNCT.charAt(rng.nextInt(PUNCT.length()));
                case 3 -> rng.nextInt(0xA0, 0x180);
                case 4 -> rng.nextInt(0x400, 0x450);
                case 5 -> rng.nextInt(0x4E00, 0x9FFF);
                case 6 -> rng.nextInt(0x1F300, 0x1FAFF);
                case 7 -> rng.nextInt(0x300, 0x370);
                default -> {
                    int c;
                    do {
                        c = rng.nextInt(1, 0x110000);
                    } while (c >= 0xD800 && c <= 0xDFFF);
                    yield c;
                }
            };
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "starcoder",
            "mpt", "refact"})
    void decodeInvertsEncode(String vocab) throws IOException {
        Tokenizer t = GgufVocabVectorsTest.load(vocab);
        boolean[] covered = coveredBytes(t);
        SplittableRandom rng = new SplittableRandom(SEED);
        int checked = 0;
        for (int i = 0; i < TRIES; i++) {
            String s = randomText(rng);
            if (!lossless(covered, s)) {
                continue;
            }
            checked++;
            int[] ids = t.encode(s);
            String back = t.decode(ids);
            if (!back.equals(s)) {
                fail(vocab + ": decode(encode(s)) != s at seed " + SEED + " try " + i + "\n  s    = "
                        + VocabVectors.escape(s) + "\n  back = " + VocabVectors.escape(back));
            }
            String streamed = stream(t, ids);
            if (!streamed.equals(back)) {
                fail(vocab + ": streamed text differs from decode at seed " + SEED + " try " + i + " for "
                        + VocabVectors.escape(s));
            }
        }
        System.out.println(vocab + ": round trip checked on " + checked + "/" + TRIES + " random strings");
        // Some vocabularies lack single-byte tokens for bytes such as 0xF1 (never seen in training), so text
        // containing them cannot round-trip; those strings are skipped, but most must still be checked.
        assertTrue(checked >= TRIES / 2, vocab + ": only " + checked + " strings were representable");
    }

    /** Which byte values have a single-byte token (byte-level char or SentencePiece {@code <0xNN>}). */
    static boolean[] coveredBytes(Tokenizer t) {
        boolean[] c = new boolean[256];
        for (int b = 0; b < 256; b++) {
            c[b] = t.tokenId(String.format("<0x%02X>", b)).isPresent()
                    || t.tokenId(byteLevelChar(b)).isPresent();
        }
        return c;
    }

    private static String byteLevelChar(int b) {
        // Inverse of ByteLevel's table, searched over its 324-char range.
        for (int c = 0; c < 324; c++) {
            byte[] d = ByteLevel.decode(String.valueOf((char) c));
            if (d != null && (d[0] & 0xFF) == b) {
                return String.valueOf((char) c);
            }
        }
        throw new AssertionError("byte " + b + " has no byte-level character");
    }

    static boolean lossless(boolean[] covered, String s) {
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (!covered[b & 0xFF]) {
                return false;
            }
        }
        return true;
    }

    /** Streams ids one by one; asserts no chunk contains U+FFFD (the inputs are valid, so none should). */
    static String stream(Tokenizer t, int[] ids) {
        StreamingDecoder d = t.streamingDecoder();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String chunk = d.next(id);
            assertFalse(chunk.contains("\uFFFD"), () -> "partial character emitted: " + VocabVectors.escape(chunk));
            sb.append(chunk);
        }
        sb.append(d.flush());
        return sb.toString();
    }

    @Test
    void streamingHoldsBytesOfASplitCharacter() throws IOException {
        Tokenizer t = GgufVocabVectorsTest.load("llama-spm");
        // llama.cpp's vectors: " this is 🦙.cpp" -> ... 29871 243 162 169 156 29889 8223; the llama is four byte tokens.
        int[] ids = t.encode("🦙", false, false);
        List<String> chunks = new ArrayList<>();
        StreamingDecoder d = t.streamingDecoder();
        for (int id : ids) {
            chunks.add(d.next(id));
        }
        assertEquals(List.of("", "", "", "", "🦙"), chunks, "ids " + java.util.Arrays.toString(ids));
        assertEquals("", d.flush());
        // An incomplete character at the end comes out of flush() as U+FFFD.
        d.next(ids[1]);
        d.next(ids[2]);
        assertEquals("\uFFFD", d.flush());
    }

    @Test
    void completePrefixStopsBeforeAnUnfinishedCharacter() {
        byte[] llama = "a🦙".getBytes(java.nio.charset.StandardCharsets.UTF_8);   // 61 F0 9F A6 99
        for (int cut = 0; cut <= llama.length; cut++) {
            byte[] b = java.util.Arrays.copyOf(llama, cut);
            int expected = cut == 0 ? 0 : cut < 5 ? 1 : 5;
            assertEquals(expected, StreamingDecoder.completePrefix(b), "prefix of " + cut + " bytes");
        }
    }

    @Test
    void spmAddsBosAndParsesSpecialsOnlyWhenAsked() throws IOException {
        Tokenizer t = GgufVocabVectorsTest.load("llama-spm");
        assertEquals(1, t.bos().getAsInt());
        assertEquals(2, t.eos().getAsInt());
        // llama.cpp vectors: "Hello world" -> 15043 3186 (no BOS); encode() adds BOS=1 as the file says.
        assertArrayEquals(new int[] {1, 15043, 3186}, t.encode("Hello world"));
        int[] parsed = t.encode("Hello</s>", false, true);
        assertEquals(2, parsed[parsed.length - 1]);
        int[] plain = t.encode("Hello</s>", false, false);
        assertFalse(java.util.Arrays.stream(plain).anyMatch(id -> id == 2));
        assertEquals("Hello</s>", t.decode(plain));
        assertEquals("Hello", t.decode(parsed));
        assertEquals("<s> Hello</s>", t.decode(t.encode("Hello</s>", true, true), true));
    }
}
