package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.load.Fixture;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad SentencePiece-style BPE tokenizer.json files give a ModelFormatException naming the field, the
 * value found and what is supported; tokenizer_config.json's add_bos/eos flags set the template.
 */
class HfSpmTokenizerErrorsTest {

    /** The synthetic legacy BPE file with {@code edit} applied. */
    private static String edited(Consumer<JsonObject> edit) throws IOException {
        return edited("spm_bpe/spm_bpe_legacy", edit);
    }

    private static String edited(String file, Consumer<JsonObject> edit) throws IOException {
        JsonObject root = Fixture.json("/golden/tokenizer/" + file + ".json");
        edit.accept(root);
        return root.toString();
    }

    private static ModelFormatException rejected(Consumer<JsonObject> edit) throws IOException {
        return rejected("spm_bpe/spm_bpe_legacy", edit);
    }

    private static ModelFormatException rejected(String file, Consumer<JsonObject> edit) throws IOException {
        String text = edited(file, edit);
        return assertThrows(ModelFormatException.class, () -> Tokenizers.fromHuggingFace(
                new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "bad.json"));
    }

    private static void assertMentions(ModelFormatException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void unknownModelTypeNamesTheSupportedOnes() throws IOException {
        ModelFormatException e = rejected(r -> r.getAsJsonObject("model").addProperty("type", "WordLevel"));
        assertMentions(e, "model.type", "WordLevel", "WordPiece", "BPE");
    }

    @Test
    void unknownNormalizerStepIsNamed() throws IOException {
        ModelFormatException e = rejected(r -> r.getAsJsonObject("normalizer").getAsJsonArray("normalizers")
                .set(0, JsonParser.parseString("{\"type\":\"Nmt\"}")));
        assertMentions(e, "normalizer.type", "Nmt", "Prepend", "Replace", "Precompiled");
    }

    @Test
    void unknownPreTokenizerIsNamed() throws IOException {
        ModelFormatException e = rejected(r -> {
            r.remove("normalizer");
            r.add("pre_tokenizer", JsonParser.parseString("{\"type\":\"Whitespace\"}"));
        });
        assertMentions(e, "pre_tokenizer.type", "Whitespace", "ByteLevel", "Metaspace");
    }

    @Test
    void unknownMetaspaceSchemeIsNamed() throws IOException {
        ModelFormatException e = rejected(r -> {
            r.add("normalizer", null);
            r.add("pre_tokenizer", JsonParser.parseString(
                    "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"sometimes\"}"));
        });
        assertMentions(e, "prepend_scheme", "sometimes", "first, always or never");
    }

    @Test
    void unknownDecoderStepIsNamed() throws IOException {
        ModelFormatException e = rejected(r -> r.getAsJsonObject("decoder").getAsJsonArray("decoders")
                .add(JsonParser.parseString("{\"type\":\"CTC\"}")));
        assertMentions(e, "decoder.type", "CTC", "ByteFallback", "Metaspace");
    }

    @Test
    void mergeOfUnknownPieceIsNamed() throws IOException {
        ModelFormatException e = rejected(r -> r.getAsJsonObject("model").getAsJsonArray("merges").add("\u2581zz qq"));
        assertMentions(e, "model.merges", "zz", "vocabulary");
    }

    @Test
    void unknownUnkTokenIsNamed() throws IOException {
        ModelFormatException e = rejected(r -> r.getAsJsonObject("model").addProperty("unk_token", "<nope>"));
        assertMentions(e, "model.unk_token", "<nope>");
    }

    @Test
    void tokenizerConfigFlagsSetTheTemplate(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), edited(r -> { }));
        Tokenizer fromJson = Tokenizers.fromHuggingFace(dir.resolve("tokenizer.json"));
        int[] body = fromJson.encode("Hello", false, false);
        int[] withBos = fromJson.encode("Hello");   // the file's TemplateProcessing: <s> $A
        assertArrayEquals(body, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
        assertTrue(withBos[0] == fromJson.bos().getAsInt());
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"add_bos_token\": false, \"add_eos_token\": true, \"eos_token\": {\"content\": \"</s>\"}}");
        Tokenizer configured = Tokenizers.fromHuggingFace(dir.resolve("tokenizer.json"));
        int[] withEos = configured.encode("Hello");
        assertArrayEquals(body, java.util.Arrays.copyOf(withEos, body.length));
        assertTrue(withEos.length == body.length + 1 && withEos[body.length] == configured.eos().getAsInt());
    }

    @Test
    void unigramUnkIdOutsideVocabularyIsNamed() throws IOException {
        ModelFormatException e = rejected("unigram/uni_bytes", r -> r.getAsJsonObject("model").addProperty("unk_id", 99999));
        assertMentions(e, "model.unk_id", "99999");
    }

    @Test
    void unigramVocabMustBeAList() throws IOException {
        ModelFormatException e = rejected("unigram/uni_bytes", r -> r.getAsJsonObject("model").add("vocab", new JsonObject()));
        assertMentions(e, "model.vocab", "[piece, score]");
    }

    @Test
    void textStepAfterTheSpaceStepsIsNamed() throws IOException {
        // The model applies Prepend/Replace(" " -> "▁") last; a text step after them would be applied out of order.
        ModelFormatException e = rejected("unigram/uni_bytes", r -> r.getAsJsonObject("normalizer")
                .getAsJsonArray("normalizers").add(JsonParser.parseString("{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"\"}")));
        assertMentions(e, "normalizer", "Precompiled before the Prepend/Replace", "after them");
    }

    @Test
    void unknownTokenIdComesFromTheModelSection() throws IOException {
        // With <unk> removed from added_tokens, only model.unk_id / model.unk_token can name it.
        for (String file : new String[] {"unigram/uni_bytes", "spm_bpe/spm_bpe_legacy"}) {
            String text = edited(file, r -> r.getAsJsonArray("added_tokens").remove(0));
            JsonObject model = JsonParser.parseString(text).getAsJsonObject().getAsJsonObject("model");
            Tokenizer t = Tokenizers.fromHuggingFace(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), file);
            int want = model.has("unk_id") ? model.get("unk_id").getAsInt()
                    : t.tokenId(model.get("unk_token").getAsString()).getAsInt();
            assertTrue(t.unk().isPresent() && t.unk().getAsInt() == want, file + ": unk " + t.unk());
        }
    }

    @Test
    void bpeOptionsThatWouldChangeIdsAreRejected() throws IOException {
        assertMentions(rejected(r -> r.getAsJsonObject("model").addProperty("dropout", 0.1)), "model.dropout", "0.1");
        assertMentions(rejected(r -> r.getAsJsonObject("model").addProperty("end_of_word_suffix", "</w>")),
                "model.end_of_word_suffix", "</w>");
        assertMentions(rejected(r -> r.getAsJsonObject("model").addProperty("continuing_subword_prefix", "##")),
                "model.continuing_subword_prefix", "##");
    }
}
