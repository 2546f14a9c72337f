package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SentencePiece-style BPE tokenizer.json against transformers.js: five small synthetic files
 * (reference/tokenizer/make_spm_bpe.py: legacy Prepend/Replace, Metaspace first/always/never, and no
 * byte fallback) and the ids and decoded texts that transformers.js' LlamaTokenizer produced for 43
 * strings (reference/tokenizer/hf_spm_reference.mjs). Special-token text in the input is parsed, as
 * transformers.js always does. Every id and every decoded string must match exactly.
 */
class HfSpmTokenizerJsReferenceTest {
    private static final String DIR = "/golden/tokenizer/spm_bpe/";

    static Tokenizer load(String variant) throws IOException {
        String name = "spm_bpe_" + variant + ".json";
        InputStream in = HfSpmTokenizerJsReferenceTest.class.getResourceAsStream(DIR + name);
        assertNotNull(in, name + " missing from test resources");
        return Tokenizers.fromHuggingFace(in, name);
    }

    static JsonArray cases(String variant) throws IOException {
        try (InputStream in = HfSpmTokenizerJsReferenceTest.class.getResourceAsStream(DIR + "spm_bpe_reference.json")) {
            assertNotNull(in, "spm_bpe_reference.json missing from test resources");
            JsonObject o = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
            return o.getAsJsonObject("variants").getAsJsonArray(variant);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"legacy", "ms_first", "ms_always", "ms_never", "legacy_nobytes"})
    void idsAndDecodeMatchTransformersJs(String variant) throws IOException {
        Tokenizer t = load(variant);
        JsonArray cases = cases(variant);
        assertEquals(43, cases.size(), "fixture size");
        for (JsonElement e : cases) {
            JsonObject c = e.getAsJsonObject();
            String text = c.get("text").getAsString();
            String what = variant + " " + VocabVectors.escape(text);
            int[] ids = ints(c.getAsJsonArray("ids"));
            assertArrayEquals(ids, t.encode(text, true, true), () -> what + ": ids");
            assertArrayEquals(ints(c.getAsJsonArray("ids_no_special")), t.encode(text, false, true),
                    () -> what + ": ids without the template");
            assertEquals(c.get("decoded").getAsString(), t.decode(ids), () -> what + ": decode");
            assertEquals(c.get("decoded_special").getAsString(), t.decode(ids, true), () -> what + ": decode with specials");
            assertEquals(c.get("decoded").getAsString(), RoundTripTest.stream(t, ids), () -> what + ": streamed decode");
        }
    }

    private static int[] ints(JsonArray a) {
        return StreamSupport.stream(a.spliterator(), false).mapToInt(JsonElement::getAsInt).toArray();
    }
}
