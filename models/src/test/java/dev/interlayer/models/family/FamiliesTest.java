package dev.interlayer.models.family;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.load.Fixture;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The family registry: every name maps to one family, the loaders follow it, unknown names list what is supported. */
class FamiliesTest {
    @TempDir
    Path dir;

    static JsonObject hfConfig(String architecture, String modelType) {
        JsonObject c = new JsonObject();
        if (architecture != null) {
            JsonArray a = new JsonArray();
            a.add(architecture);
            c.add("architectures", a);
        }
        if (modelType != null) {
            c.addProperty("model_type", modelType);
        }
        return c;
    }

    @Test
    void everyNameMapsToExactlyOneFamily() {
        Set<String> gguf = new HashSet<>(), types = new HashSet<>(), archs = new HashSet<>(), names = new HashSet<>();
        for (Family f : Families.ALL) {
            assertTrue(names.add(f.name()), "family name twice: " + f.name());
            assertSame(f, Families.byName(f.name()).orElseThrow());
            assertFalse(f.architectures().gguf().isEmpty() && f.architectures().hfModelTypes().isEmpty(), f.name());
            for (String a : f.architectures().gguf()) {
                assertTrue(gguf.add(a), "GGUF architecture " + a + " in two families");
                assertSame(f, Families.forGguf(a).orElseThrow(), a);
                assertEquals(f.name(), ModelLoader.ggufFamily(a));
            }
            for (String t : f.architectures().hfModelTypes()) {
                assertTrue(types.add(t), "model_type " + t + " in two families");
                assertSame(f, Families.forHuggingFace(hfConfig(null, t)).orElseThrow(), t);
            }
            for (String a : f.architectures().hfArchitectures()) {
                assertTrue(archs.add(a), "architecture " + a + " in two families");
                // architectures[0] wins over a model_type of another family
                assertSame(f, Families.forHuggingFace(hfConfig(a, "something-else")).orElseThrow(), a);
            }
            assertEquals(f.kind() == Family.Kind.ENCODER, f == Families.BERT, f.name());
        }
        assertEquals(List.of("llama", "gemma", "olmo2", "gpt2", "bert"), ModelLoader.families());
        assertEquals(new ArrayList<>(new java.util.TreeSet<>(gguf)), Families.ggufArchitectures());
        assertEquals(List.of(Families.BERT), Families.onnxFamilies());
    }

    /** Every checked-in GGUF and HF fixture: the registry's family is the one ModelLoader loads it as. */
    @Test
    void fixturesLoadAsTheirRegistryFamily() throws IOException {
        List<String> seen = new ArrayList<>();
        try (Stream<Path> files = Files.list(Fixture.resource("gguf"))) {
            for (Path p : files.sorted().toList()) {
                String arch;
                try (GgufFile f = Gguf.open(p)) {
                    arch = f.architecture();
                }
                Family want = Families.forGguf(arch).orElseThrow(() -> new AssertionError(p + ": " + arch));
                try (LoadedModel m = ModelLoader.open(p)) {
                    assertEquals(want.name(), m.family(), p.toString());
                    assertNotNull(m.lm(), p + ": a decoder family gives a causal LM");
                }
                seen.add(want.name());
            }
        }
        try (Stream<Path> dirs = Files.list(Fixture.resource("hf"))) {
            for (Path d : dirs.sorted().toList()) {
                JsonObject c = JsonParser.parseString(Files.readString(d.resolve("config.json"))).getAsJsonObject();
                Family want = Families.forHuggingFace(c).orElseThrow(() -> new AssertionError(d.toString()));
                try (LoadedModel m = ModelLoader.open(d)) {
                    assertEquals(want.name(), m.family(), d.toString());
                }
                seen.add(want.name());
            }
        }
        assertTrue(seen.containsAll(List.of("llama", "gemma", "olmo2", "gpt2")), seen.toString());
    }

    @Test
    void unknownNamesListEverySupportedOne() throws Exception {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Families.requireGguf(Path.of("x.gguf"), "falcon"));
        assertTrue(e.getMessage().contains("falcon") && e.getMessage().contains("x.gguf"), e.getMessage());
        for (String a : Families.ggufArchitectures()) {
            assertTrue(e.getMessage().contains(a), a + " missing from: " + e.getMessage());
        }
        e = assertThrows(ModelFormatException.class, () -> Families.requireHuggingFace(Path.of("config.json"),
                hfConfig("FalconForCausalLM", "falcon")));
        assertTrue(e.getMessage().contains("FalconForCausalLM") && e.getMessage().contains("falcon"), e.getMessage());
        for (String t : Families.hfModelTypes()) {
            assertTrue(e.getMessage().contains(t), t + " missing from: " + e.getMessage());
        }
        for (String a : Families.hfArchitectures()) {
            assertTrue(e.getMessage().contains(a), a + " missing from: " + e.getMessage());
        }
        assertTrue(Families.forHuggingFace(new JsonObject()).isEmpty());
        assertTrue(Families.forGguf(null).isEmpty());
    }

    @Test
    void loaderAndEmbedReportUnknownOrWrongFamiliesFromTheRegistry() throws Exception {
        // gpt2.gguf with general.architecture renamed (same length, so the file stays well-formed)
        byte[] b = Files.readAllBytes(Fixture.resource("gguf/gpt2.gguf"));
        int at = indexOf(b, "general.architecture".getBytes(StandardCharsets.US_ASCII));
        int value = at + "general.architecture".length() + 4 + 8;     // skip the value type and string length
        assertEquals("gpt2", new String(b, value, 4, StandardCharsets.US_ASCII));
        System.arraycopy("gptj".getBytes(StandardCharsets.US_ASCII), 0, b, value, 4);
        Path renamed = dir.resolve("gptj.gguf");
        Files.write(renamed, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(renamed));
        assertTrue(e.getMessage().contains("gptj") && e.getMessage().contains("qwen2moe")
                && e.getMessage().contains("bert"), e.getMessage());

        // a decoder is not a sentence-embedding model
        e = assertThrows(ModelFormatException.class, () -> EmbeddingModel.fromGguf(Fixture.resource("gguf/llama.gguf")));
        assertTrue(e.getMessage().contains("bert") && e.getMessage().contains("llama (a decoder family)"),
                e.getMessage());
    }

    @Test
    void ignoredNamesComeFromTheRegistry() {
        assertTrue(ModelLoader.ignoredBy("bert").test("bert.pooler.dense.weight"));
        assertTrue(ModelLoader.ignoredBy("gemma").test("vision_tower.x.weight"));
        assertFalse(ModelLoader.ignoredBy("bert").test("encoder.layer.0.attention.self.query.weight"));
        assertFalse(ModelLoader.ignoredBy("llama").test("vision_tower.x.weight"));
        assertFalse(ModelLoader.ignoredBy("no-such-family").test("lm_head.weight"));
        // BERT's map comes from its loader's own name table
        assertTrue(Families.BERT.tensorNames().lists(false, "blk.11.attn_q.bias"));
        assertTrue(Families.BERT.tensorNames().lists(true, "bert.encoder.layer.3.attention.self.query.weight"));
        assertTrue(Families.BERT.tensorNames().lists(true, "embeddings.LayerNorm.weight"));
        assertFalse(Families.BERT.tensorNames().lists(true, "encoder.layer.3.attention.self.qkv.weight"));
        assertFalse(Families.BERT.tensorNames().lists(false, "bert.blk.0.attn_q.weight"), "prefixes are HF only");
    }

    /**
     * The tensor-name maps against real files: every tensor of every checked-in GGUF and HF fixture, and of the
     * MiniLM ONNX export, is either listed by its family or deliberately ignored; and the map finds all of
     * MiniLM's BERT tensors.
     */
    @Test
    void tensorNameMapsCoverTheFixtures() throws IOException {
        List<String> unlisted = new ArrayList<>();
        try (Stream<Path> files = Files.list(Fixture.resource("gguf"))) {
            for (Path p : files.sorted().toList()) {
                try (GgufFile f = Gguf.open(p)) {
                    Family family = Families.forGguf(f.architecture()).orElseThrow();
                    for (String name : f.names()) {
                        if (!family.tensorNames().lists(false, name) && !family.ignores(name)) {
                            unlisted.add(p.getFileName() + ": " + name);
                        }
                    }
                }
            }
        }
        try (Stream<Path> dirs = Files.list(Fixture.resource("hf"))) {
            for (Path d : dirs.sorted().toList()) {
                try (HfFolder h = HfFolder.open(d)) {
                    Family family = Families.forHuggingFace(h.config()).orElseThrow();
                    for (String name : h.weights().names()) {
                        if (!family.tensorNames().lists(true, name) && !family.ignores(name)) {
                            unlisted.add(d.getFileName() + ": " + name);
                        }
                    }
                }
            }
        }
        try (OnnxWeights w = OnnxWeights.open(EmbeddingModel.defaultOnnxPath())) {
            int listed = 0;
            for (String name : w.names()) {
                if (Families.BERT.tensorNames().lists(true, name)) {
                    listed++;
                }
            }
            int layers = dev.interlayer.models.bert.BertConfig.fromOnnx(w).layers();
            // word, position, type embeddings + embedding LayerNorm weight and bias; 8 weight/bias pairs per block
            assertEquals(5 + 16 * layers, listed, "MiniLM ONNX tensors found through BERT's name map");
        }
        assertEquals(List.of(), unlisted, "tensors neither in their family's name map nor ignored");
    }

    /** README.md's table of supported architectures is the one the registry generates. */
    @Test
    void readmeTableIsTheRegistrys() throws IOException {
        Path readme = Path.of("..", "README.md");
        String text = Files.readString(readme, StandardCharsets.UTF_8);
        String table = Families.markdownTable();
        assertTrue(text.contains(table), "README.md must contain the registry's table (regenerate it):\n" + table);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
