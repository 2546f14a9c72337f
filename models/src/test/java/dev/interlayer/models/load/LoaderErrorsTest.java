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
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config and tensor problems in HF folders surface as ModelFormatException naming the key or tensor. */
class LoaderErrorsTest {
    @TempDir
    Path dir;

    // a copy of hf/<name> (in a fresh subfolder) whose config.json was edited by `edit`
    private Path edited(String name, Consumer<JsonObject> edit) throws Exception {
        return Fixture.editedHf(Files.createTempDirectory(dir, name), name, edit);
    }

    @Test
    void missingTensorNamesItAndTheClosestNames() throws Exception {
        Path p = edited("olmo2", c -> c.addProperty("num_hidden_layers", 3));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p));
        assertTrue(e.getMessage().contains("model.layers.2.self_attn.q_proj.weight") && e.getMessage().contains("absent")
                && e.getMessage().contains("closest"), e.getMessage());
    }

    @Test
    void misShapedTensorNamesBothShapes() throws Exception {
        Path p = edited("gemma2", c -> c.addProperty("intermediate_size", 50));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p));
        assertTrue(e.getMessage().contains("mlp.gate_proj.weight") && e.getMessage().contains("[50, 32]")
                && e.getMessage().contains("[48, 32]"), e.getMessage());
    }

    @Test
    void unsupportedSettingNamesTheKey() throws Exception {
        Path p = edited("gemma3", c -> c.addProperty("hidden_activation", "relu"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p));
        assertTrue(e.getMessage().contains("hidden_activation"), e.getMessage());
        Path q = edited("gpt2", c -> c.addProperty("scale_attn_by_inverse_layer_idx", true));
        e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(q));
        assertTrue(e.getMessage().contains("scale_attn_by_inverse_layer_idx"), e.getMessage());
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
