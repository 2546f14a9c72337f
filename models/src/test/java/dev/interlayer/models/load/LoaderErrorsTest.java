package dev.interlayer.models.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.llama.LlamaConfig;
import dev.interlayer.models.llama.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Config and tensor problems in HF folders surface as ModelFormatException naming the key or tensor. */
class LoaderErrorsTest {
    @TempDir
    Path dir;

    // a copy of hf/<name> (in a fresh subfolder) whose config.json was edited by `edit`
    private Path edited(String name, Consumer<JsonObject> edit) throws Exception {
        return Fixture.editedHf(Files.createTempDirectory(dir, name), name, edit);
    }

    /** Edits of a tiny HF folder's config that loading must reject, each with the words its message names. */
    static Stream<Arguments> rejectedConfigs() {
        return Stream.of(
                rejected("missingTensorNamesItAndTheClosestNames", "olmo2", c -> c.addProperty("num_hidden_layers", 3),
                        "model.layers.2.self_attn.q_proj.weight", "absent", "closest"),
                rejected("misShapedTensorNamesBothShapes", "gemma2", c -> c.addProperty("intermediate_size", 50),
                        "mlp.gate_proj.weight", "[50, 32]", "[48, 32]"),
                rejected("unsupportedSettingNamesTheKey: gemma3", "gemma3",
                        c -> c.addProperty("hidden_activation", "relu"), "hidden_activation"),
                rejected("unsupportedSettingNamesTheKey: gpt2", "gpt2",
                        c -> c.addProperty("scale_attn_by_inverse_layer_idx", true),
                        "scale_attn_by_inverse_layer_idx"));
    }

    private static Arguments rejected(String name, String family, Consumer<JsonObject> edit, String... words) {
        return Arguments.of(name, family, edit, List.of(words));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedConfigs")
    void rejectedConfigNamesTheKeyOrTensor(String name, String family, Consumer<JsonObject> edit, List<String> words)
            throws Exception {
        Path p = edited(family, edit);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void qwen2SlidingWindowOnlyWhenEnabled() throws Exception {
        // the tiny qwen2 config has sliding_window 4 but use_sliding_window false: full context
        try (LoadedModel m = ModelLoader.open(Fixture.resource("hf/qwen2"))) {
            assertEquals(64, m.requireLm().contextLength());
            assertEquals("qwen2", ((LlamaModel) m.requireLm()).config().arch());
        }
        // enabled: the context stays max_position_embeddings; layers >= max_window_layers (1) attend to the last 4
        Path p = edited("qwen2", c -> c.addProperty("use_sliding_window", true));
        try (LoadedModel m = ModelLoader.open(p)) {
            assertEquals(64, m.requireLm().contextLength());
            LlamaConfig c = ((LlamaModel) m.requireLm()).config();
            assertEquals(0, c.windowOf(0));
            assertEquals(4, c.windowOf(1));
        }
    }

    @Test
    void notAModel() throws Exception {
        Path f = Files.writeString(dir.resolve("x.bin"), "hello");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(f));
        assertTrue(e.getMessage().contains("GGUF"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> ModelLoader.open(dir.resolve("absent.gguf")));
    }
}
