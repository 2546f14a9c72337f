package dev.interlayer.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Byte-level BPE from GPT-2's tokenizer.json (fake_gpt2 ships GPT-2's real tokenizer). Reference:
 * llama.cpp's gpt-2 vectors, produced by Hugging Face's tokenizer for openai-community/gpt2.
 */
class ByteLevelBpeTokenizerTest {

    static Tokenizer gpt2Json() throws IOException {
        return Tokenizers.fromHuggingFace(SharedModels.require("hf-tiny-random/fake_gpt2/tokenizer.json"));
    }

    @Test
    void gpt2TokenizerJsonMatchesGpt2Vectors() throws IOException {
        Tokenizer t = gpt2Json();
        VocabVectors.load(SharedModels.require("tokenizers/ggml-vocab-gpt-2.gguf"))
                .assertAllPass("gpt-2 via tokenizer.json", t);
    }

    /**
     * tokenizer.json with a {@code Sequence} pre-tokenizer, built from a GGUF vocabulary: gpt-2 as
     * Split(GPT-2 regex, Isolated) + ByteLevel(use_regex=false); starcoder as Digits(individual) +
     * ByteLevel (the layout of their Hugging Face files). The llama.cpp vectors must still all pass.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gpt-2", "starcoder"})
    void sequencePreTokenizerFromTokenizerJson(String vocab, @TempDir Path dir) throws IOException {
        Path gguf = SharedModels.require("tokenizers/ggml-vocab-" + vocab + ".gguf");
        JsonObject root = new JsonObject();
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        JsonObject vocabJson = new JsonObject();
        JsonArray merges = new JsonArray();
        JsonArray added = new JsonArray();
        try (GgufFile g = Gguf.open(gguf)) {
            String[] tokens = g.getArray("tokenizer.ggml.tokens", String[].class);
            int[] types = g.getArray("tokenizer.ggml.token_type", int[].class);
            for (int i = 0; i < tokens.length; i++) {
                vocabJson.addProperty(tokens[i], i);
                if (types[i] == 3) {
                    JsonObject a = new JsonObject();
                    a.addProperty("id", i);
                    a.addProperty("content", tokens[i]);
                    a.addProperty("special", true);
                    added.add(a);
                }
            }
            for (String m : g.getArray("tokenizer.ggml.merges", String[].class)) {
                merges.add(m);
            }
        }
        model.add("vocab", vocabJson);
        model.add("merges", merges);
        root.add("model", model);
        root.add("added_tokens", added);
        JsonArray steps = new JsonArray();
        if (vocab.equals("gpt-2")) {
            steps.add(JsonParser.parseString("{\"type\": \"Split\", \"behavior\": \"Isolated\", \"invert\": false, "
                    + "\"pattern\": {\"Regex\": \"'s|'t|'re|'ve|'m|'ll|'d| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
                    + "|\\\\s+(?!\\\\S)|\\\\s+\"}}"));
            steps.add(JsonParser.parseString("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}"));
        } else {
            steps.add(JsonParser.parseString("{\"type\": \"Digits\", \"individual_digits\": true}"));
            steps.add(JsonParser.parseString("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}"));
        }
        JsonObject pre = new JsonObject();
        pre.addProperty("type", "Sequence");
        pre.add("pretokenizers", steps);
        root.add("pre_tokenizer", pre);
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, root.toString());

        Tokenizer t = Tokenizers.fromHuggingFace(json);
        VocabVectors.load(gguf).assertAllPass(vocab + " via synthesized tokenizer.json", t);
    }

    @Test
    void endOfTextIsParsedOnlyWhenAsked() throws IOException {
        Tokenizer t = gpt2Json();
        assertEquals(50257, t.vocabSize());
        assertArrayEquals(new int[] {50256}, t.encode("<|endoftext|>", false, true));
        int[] plain = t.encode("<|endoftext|>", false, false);
        assertEquals("<|endoftext|>", t.decode(plain));
        assertEquals(true, plain.length > 1);
        // GPT-2's tokenizer.json adds no BOS/EOS (ByteLevel post-processor).
        assertArrayEquals(t.encode("Hello world", false, false), t.encode("Hello world"));
    }
}
