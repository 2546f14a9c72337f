package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.load.Fixture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code hidden}, {@code logits} and {@code generate} on the tiny HF folders and GGUFs of
 * reference/arch (no tokenizer files: token ids via --tokens), checked against the PyTorch fixtures.
 * Tolerance 1e-4 as in ArchGoldenTest (float32 vs float64 reference; the CLI prints Float.toString,
 * which round-trips exactly).
 */
class HiddenCliTest {

    static Path resource(String r) throws Exception {
        return Path.of(HiddenCliTest.class.getResource("/" + r).toURI());
    }

    static JsonObject golden(String name) throws Exception {
        return Fixture.golden(name);
    }

    static String ids(JsonObject g) {
        return g.getAsJsonArray("tokens").toString().replace("[", "").replace("]", "");
    }

    static double maxDiff(JsonArray got, JsonArray want) {
        assertEquals(want.size(), got.size());
        double m = 0;
        for (int t = 0; t < want.size(); t++) {
            JsonArray a = got.get(t).getAsJsonArray(), b = want.get(t).getAsJsonArray();
            assertEquals(b.size(), a.size());
            for (int j = 0; j < b.size(); j++) {
                m = Math.max(m, Math.abs(a.get(j).getAsDouble() - b.get(j).getAsDouble()));
            }
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "llama3", "qwen2", "gemma2", "gemma3", "olmo2", "gpt2"})
    void hiddenJsonFromHfFolderWithoutTokenizer(String name) throws Exception {
        JsonObject g = golden(name);
        LlamaCliTest.Run r = LlamaCliTest.run("hidden", "--model", resource("hf/" + name).toString(), "--tokens",
                ids(g), "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("{\"tokens\":[" + ids(g) + "], \"hidden\":[["), r.out());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(2, o.size(), "exactly tokens and hidden");
        double err = maxDiff(o.getAsJsonArray("hidden"), g.getAsJsonArray("hidden"));
        assertTrue(err <= 1e-4, name + " hidden differs by " + err);
    }

    @Test
    void logitsJsonFromHfFolderAndGguf() throws Exception {
        JsonObject g = golden("olmo2");
        for (String model : new String[] {"hf/olmo2", "gguf/olmo2.gguf"}) {
            LlamaCliTest.Run r = LlamaCliTest.run("logits", "--model", resource(model).toString(), "--tokens", ids(g),
                    "--json");
            assertEquals(0, r.code(), r.err());
            JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
            double err = maxDiff(o.getAsJsonArray("logits"), g.getAsJsonArray("logits"));
            assertTrue(err <= 1e-4, model + " logits differ by " + err);
        }
    }

    @Test
    void generateGreedyIsTheArgmaxChain() throws Exception {
        // greedy continuation of 3 tokens from gemma2 (HF): each next id is the argmax of the model's logits,
        // checked independently with the logits command on the growing prefix
        Path m = resource("hf/gemma2");
        LlamaCliTest.Run r = LlamaCliTest.run("generate", "--model", m.toString(), "--tokens", "5,17,42",
                "--temperature", "0", "--max-tokens", "3");
        assertEquals(0, r.code(), r.err());
        String[] gen = r.out().trim().split("\\s+");
        assertEquals(3, gen.length, r.out());
        StringBuilder prefix = new StringBuilder("5,17,42");
        for (String id : gen) {
            LlamaCliTest.Run l = LlamaCliTest.run("logits", "--model", m.toString(), "--tokens", prefix.toString(),
                    "--json");
            JsonArray rows = JsonParser.parseString(l.out()).getAsJsonObject().getAsJsonArray("logits");
            JsonArray last = rows.get(rows.size() - 1).getAsJsonArray();
            int best = 0;
            for (int j = 1; j < last.size(); j++) {
                if (last.get(j).getAsDouble() > last.get(best).getAsDouble()) {
                    best = j;
                }
            }
            assertEquals(best, Integer.parseInt(id));
            prefix.append(',').append(id);
        }
    }

    @Test
    void promptWithoutTokenizerIsAClearError() throws Exception {
        LlamaCliTest.Run r = LlamaCliTest.run("hidden", "--model", resource("hf/gpt2").toString(), "--prompt", "hi");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("no tokenizer") && r.err().contains("--tokens"), r.err());
    }

    @Test
    void unknownArchitectureIsAClearError(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.nio.file.Files.copy(resource("hf/gpt2/model.safetensors"), dir.resolve("model.safetensors"));
        java.nio.file.Files.writeString(dir.resolve("config.json"),
                "{\"architectures\":[\"FalconForCausalLM\"],\"model_type\":\"falcon\"}");
        LlamaCliTest.Run r = LlamaCliTest.run("hidden", "--model", dir.toString(), "--tokens", "1");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("FalconForCausalLM"), r.err());
    }

    @Test
    void inspectHfFolderAndGemmaGguf() throws Exception {
        LlamaCliTest.Run r = LlamaCliTest.run("inspect", "--model", resource("hf/gemma3").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("family: gemma") && r.out().contains("GemmaConfig[version=3")
                && r.out().contains("model.layers.5.self_attn.q_norm.weight"), r.out());
        r = LlamaCliTest.run("inspect", "--model", resource("gguf/gemma2.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("GemmaConfig[version=2") && r.out().contains("offsetNorms=false"), r.out());
    }

    @Test
    void hiddenOfBertFolderMatchesItsPyTorchFixture() throws Exception {
        // golden/bert/bert_tiniest.json: HF last_hidden_state in float64 (reference/bert); encoder, types 0, full mask
        Path bert = dev.interlayer.models.SharedModels.require("hf-tiny-random/bert_tiniest");
        JsonObject g = Fixture.json("/golden/bert/bert_tiniest.json");
        JsonArray cases = g.getAsJsonArray("ids");
        int longest = 0;
        for (int i = 1; i < cases.size(); i++) {
            if (cases.get(i).getAsJsonArray().size() > cases.get(longest).getAsJsonArray().size()) {
                longest = i;
            }
        }
        String ids = cases.get(longest).getAsJsonArray().toString().replace("[", "").replace("]", "");
        LlamaCliTest.Run r = LlamaCliTest.run("hidden", "--model", bert.toString(), "--tokens", ids, "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        double err = maxDiff(o.getAsJsonArray("hidden"), g.getAsJsonArray("last_hidden_state").get(longest)
                .getAsJsonArray());
        assertTrue(err <= 1e-5, "bert hidden differs by " + err);   // hidden 4, one layer: float32 ~1e-7
    }
}
