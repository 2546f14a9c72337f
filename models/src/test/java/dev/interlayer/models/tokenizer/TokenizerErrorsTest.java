package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.ModelFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad files and bad arguments give clear exceptions naming the field; config files set max length. */
class TokenizerErrorsTest {

    private static Tokenizer json(String text) throws IOException {
        return Tokenizers.fromHuggingFace(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "t.json");
    }

    /** tokenizer.json texts that are not a tokenizer this engine reads, each with the words its message names. */
    static Stream<Arguments> badTokenizerJson() {
        return Stream.of(
                Arguments.of("invalidJsonIsAFormatError", "{\"model\": [1, 2", List.of("valid JSON")),
                Arguments.of("unsupportedModelTypeIsNamed", "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}",
                        List.of("model.type", "WordLevel", "Unigram")),
                Arguments.of("wordPieceNeedsItsUnknownToken",
                        "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"a\": 0}}}",
                        List.of("unk_token")),
                Arguments.of("wrongJsonTypeIsAFormatError",
                        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": \"zero\"}}}",
                        List.of("tokenizer.json")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTokenizerJson")
    void badTokenizerJsonIsAFormatErrorNamingTheField(String name, String text, List<String> words) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> json(text));
        assertNames(e, words);
    }

    /**
     * GGUF tokenizer metadata that cannot make a tokenizer, each with the words its message names. The BYTE token
     * that is not {@code <0xHH>} was found by mutating stories260K.gguf (it gave NumberFormatException's "For input
     * string").
     */
    static Stream<Arguments> badGgufMetadata() {
        return Stream.of(
                Arguments.of("ggufWithoutTokenizerIsNamed", Map.of("general.architecture", "llama"),
                        List.of("tokenizer.ggml.model")),
                Arguments.of("ggufUnknownPreTypeIsNamed", Map.of("tokenizer.ggml.model", "gpt2",
                        "tokenizer.ggml.pre", "no-such-pre",
                        "tokenizer.ggml.tokens", new String[] {"a", "b", "ab"},
                        "tokenizer.ggml.merges", new String[] {"a b"}),
                        List.of("tokenizer.ggml.pre", "no-such-pre")),
                Arguments.of("ggufTokenTypeLengthMismatchIsNamed", Map.of("tokenizer.ggml.model", "llama",
                        "tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>"),
                        "tokenizer.ggml.token_type", new int[] {2, 3}),
                        List.of("token_type")),
                Arguments.of("ggufByteTokenThatIsNotHexIsNamed", Map.of("tokenizer.ggml.model", "llama",
                        "tokenizer.ggml.tokens", List.of("<unk>", "<s>", "</s>", "<0x0A>", "<0x]B>", "a"),
                        "tokenizer.ggml.scores", new float[] {0, 0, 0, 0, 0, -1},
                        "tokenizer.ggml.token_type", new int[] {2, 3, 3, 6, 6, 1}),
                        List.of("<0x]B>", "4")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badGgufMetadata")
    void badGgufMetadataIsNamed(String name, Map<String, Object> metadata, List<String> words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tokenizers.fromGguf(new HashMap<>(metadata)));
        assertNames(e, words);
    }

    // The message names every one of `words`.
    private static void assertNames(Exception e, List<String> words) {
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void addedTokenIdFarOutsideVocabularyIsRejectedBeforeAllocating() {
        // Before the check, id 2e9 sized a 2-billion-entry array (OOM) and MAX_VALUE overflowed to a negative size.
        for (long id : new long[] {2_000_000_000L, Integer.MAX_VALUE, -1}) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> json(
                    "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"a\": 1}},"
                    + " \"added_tokens\": [{\"id\": " + id + ", \"content\": \"[X]\", \"special\": true}]}"));
            assertTrue(e.getMessage().contains("added_tokens"), e.getMessage());
        }
    }

    @Test
    void tinyGgufBpeFromMetadataMap() {
        // A three-token BPE built by hand: "ab" is the merge of "a" and "b".
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.model", "gpt2");
        md.put("tokenizer.ggml.tokens", new String[] {"a", "b", "ab", "<|end|>"});
        md.put("tokenizer.ggml.token_type", new int[] {1, 1, 1, 3});
        md.put("tokenizer.ggml.merges", new String[] {"a b"});
        md.put("tokenizer.ggml.eos_token_id", 3L);
        md.put("tokenizer.ggml.add_eos_token", true);
        Tokenizer t = Tokenizers.fromGguf(md);
        assertEquals(List.of(2, 0, 2, 3), toList(t.encode("abaab")));
        assertEquals(List.of(2, 3, 1), toList(t.encode("ab<|end|>b", false, true)));
        assertEquals("abaab", t.decode(t.encode("abaab")));
    }

    @Test
    void decodeRejectsIdOutsideVocabulary() throws IOException {
        Tokenizer t = WordPieceTokenizerTest.minilm();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {30522}));
        assertTrue(e.getMessage().contains("30522"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.streamingDecoder().next(-1));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {30522}, true));
    }

    @Test
    void tokenizerConfigSetsMaxLength(@TempDir Path dir) throws IOException {
        Path src = SharedModels.require("hf-tiny-random/bert_tiniest/tokenizer.json");
        // bert_tiniest's own config has model_max_length 1e30 ("no limit") and no truncation.
        assertEquals(Integer.MAX_VALUE, Tokenizers.fromHuggingFace(src).maxLength());
        Files.copy(src, dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 16}");
        assertEquals(16, Tokenizers.fromHuggingFace(dir.resolve("tokenizer.json")).maxLength());
    }

    private static List<Integer> toList(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
