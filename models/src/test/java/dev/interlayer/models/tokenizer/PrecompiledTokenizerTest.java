package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.load.Fixture;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * T5/ALBERT-style Unigram tokenizers (reference/tokenizer/make_precompiled.py): a {@code Precompiled} normalizer
 * whose charsmap SentencePiece's trainer compiled from a small rule table, {@code Replace}/{@code Lowercase}
 * steps, and a {@code Sequence[WhitespaceSplit, Metaspace]} pre-tokenizer. Every normalized string, id list
 * and decoded string must equal Hugging Face's Rust tokenizers (0.23) on 63 texts: the shared SentencePiece
 * texts plus the rules' characters, graphemes the trie matches only in part ("o" + diaeresis), a second accent
 * after a mapped pair, whitespace runs, and characters without a rule.
 */
class PrecompiledTokenizerTest {
    private static final String DIR = "/golden/tokenizer/precompiled/";

    private static JsonObject json(String name) throws IOException {
        return Fixture.json(DIR + name);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"uni_t5", "uni_albert"})
    void idsNormalizedTextAndDecodeMatchHuggingFace(String variant) throws IOException {
        JsonObject tj = json(variant + ".json");
        Tokenizer t = Tokenizers.fromHuggingFace(new ByteArrayInputStream(tj.toString().getBytes(StandardCharsets.UTF_8)),
                variant + ".json");
        UnaryOperator<String> norm = s -> s;
        for (JsonElement step : tj.getAsJsonObject("normalizer").getAsJsonArray("normalizers")) {
            norm = HfNormalizers.andThen(norm, HfNormalizers.step(step.getAsJsonObject()));
        }
        JsonArray cases = json("precompiled_reference_rust.json").getAsJsonObject("variants").getAsJsonArray(variant);
        assertEquals(63, cases.size());
        for (JsonElement e : cases) {
            JsonObject c = e.getAsJsonObject();
            String text = c.get("text").getAsString();
            String what = variant + " " + VocabVectors.escape(text);
            assertEquals(c.get("normalized").getAsString(), norm.apply(text), what + ": normalized");
            int[] ids = ints(c.getAsJsonArray("ids"));
            assertArrayEquals(ids, t.encode(text, true, true), what + ": ids");
            assertArrayEquals(ints(c.getAsJsonArray("ids_no_special")), t.encode(text, false, true), what);
            assertEquals(c.get("decoded").getAsString(), t.decode(ids), what + ": decoded");
            assertEquals(c.get("decoded_special").getAsString(), t.decode(ids, true), what + ": decoded with specials");
        }
    }

    @Test
    void damagedCharsmapFailsWithItsName() throws IOException {
        JsonObject tj = json("uni_t5.json");
        JsonObject pc = tj.getAsJsonObject("normalizer").getAsJsonArray("normalizers").get(0).getAsJsonObject();
        pc.addProperty("precompiled_charsmap", "AAAA");              // trie size 0
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromHuggingFace(
                new ByteArrayInputStream(tj.toString().getBytes(StandardCharsets.UTF_8)), "t5.json"));
        assertTrue(e.getMessage().contains("precompiled_charsmap"), e.getMessage());
        pc.addProperty("precompiled_charsmap", "////AAAA");          // trie size far beyond the blob
        e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromHuggingFace(
                new ByteArrayInputStream(tj.toString().getBytes(StandardCharsets.UTF_8)), "t5.json"));
        assertTrue(e.getMessage().contains("trie size"), e.getMessage());
    }

    private static int[] ints(JsonArray a) {
        return StreamSupport.stream(a.spliterator(), false).mapToInt(JsonElement::getAsInt).toArray();
    }
}
