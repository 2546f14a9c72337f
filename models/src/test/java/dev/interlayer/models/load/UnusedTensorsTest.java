package dev.interlayer.models.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.io.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tensors a family does not read are reported once as a warning on logger {@code dev.interlayer.models}
 * (System.Logger, which maps to java.util.logging by default); the committed and shared models read every
 * tensor they carry, so they load without a warning.
 */
class UnusedTensorsTest {
    @TempDir
    Path dir;

    // strong reference: JUL holds loggers weakly, and a collected logger would drop the handler
    private final Logger jul = Logger.getLogger("dev.interlayer.models");
    private final List<LogRecord> warnings = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                synchronized (warnings) {
                    warnings.add(r);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void attach() {
        jul.addHandler(capture);
    }

    @AfterEach
    void detach() {
        jul.removeHandler(capture);
    }

    private List<String> messages() {
        synchronized (warnings) {
            return warnings.stream().map(LogRecord::getMessage).toList();
        }
    }

    @Test
    void extraTensorIsReportedOnceByName() throws Exception {
        Path p = copyWithHeaderEdit("llama", header -> addF32(header, "model.extra.weight", 2));
        try (LoadedModel m = ModelLoader.open(p)) {
            assertEquals("llama", m.family());
        }
        List<String> got = messages();
        assertEquals(1, got.size(), "warnings: " + got);
        assertEquals("model.safetensors: 1 tensor not used by llama: [model.extra.weight]", got.get(0));
    }

    @Test
    void missingTensorStillFailsWithClosestNames() throws Exception {
        // rename model.norm.weight: the family needs the old name, the file offers the new one
        Path p = copyWithHeaderEdit("llama", header -> header.add("model.norm.weightx", header.remove("model.norm.weight")));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.open(p));
        assertTrue(e.getMessage().contains("'model.norm.weight'") && e.getMessage().contains("closest")
                && e.getMessage().contains("model.norm.weightx"), e.getMessage());
        assertEquals(List.of(), messages(), "a failed load reports the error, not unused tensors");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "llama-bf16", "llama3", "qwen2", "mixtral", "qwen2moe", "gemma2", "gemma3",
                            "olmo2", "gpt2"})
    void committedFoldersUseEveryTensor(String name) throws Exception {
        try (LoadedModel m = ModelLoader.open(Fixture.resource("hf/" + name))) {
            assertTrue(m.hidden().hiddenSize() > 0);
        }
        assertEquals(List.of(), messages());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"synthetic/synth-gpt2-f32.gguf", "synthetic/synth-qwen2moe-f32.gguf",
                            "synthetic/synth-gemma2-f32.gguf", "synthetic/synth-llama-256-f32.gguf",
                            "synthetic/synth-bert-f32.gguf", "synthetic/synth-mixtral-moe-f32.gguf",
                            "llama-2-tiny-random/llama-2-tiny-random.gguf", "stories260K/stories260K.gguf",
                            "hf-tiny-random/fake_gpt2", "hf-tiny-random/bert_tiniest"})
    void sharedModelsUseEveryTensor(String file) throws Exception {
        try (LoadedModel m = ModelLoader.open(SharedModels.require(file))) {
            assertTrue(m.hidden().hiddenSize() > 0);
        }
        assertEquals(List.of(), messages());
    }

    @Test
    void bundledOnnxUsesEveryTensor() throws Exception {
        try (LoadedModel m = ModelLoader.open(EmbeddingModel.defaultOnnxPath())) {
            assertEquals("bert", m.family());
        }
        assertEquals(List.of(), messages());
    }

    // ---- safetensors editing ----

    // header: the safetensors JSON header; adds an F32 tensor of n zeros after the existing data
    private long dataLength;
    private int extraBytes;

    private void addF32(JsonObject header, String name, int n) {
        JsonObject e = new JsonObject();
        e.addProperty("dtype", "F32");
        JsonArray shape = new JsonArray();
        shape.add(n);
        e.add("shape", shape);
        JsonArray offsets = new JsonArray();
        offsets.add(dataLength);
        offsets.add(dataLength + 4L * n);
        e.add("data_offsets", offsets);
        header.add(name, e);
        extraBytes += 4 * n;
    }

    // a copy of hf/<name> whose model.safetensors header was edited by `edit` (zeros appended for new tensors)
    private Path copyWithHeaderEdit(String name, Consumer<JsonObject> edit) throws IOException {
        Path src = Fixture.resource("hf/" + name);
        Path out = Files.createTempDirectory(dir, name);
        Files.copy(src.resolve("config.json"), out.resolve("config.json"));
        byte[] file = Files.readAllBytes(src.resolve("model.safetensors"));
        int n = Math.toIntExact(ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        JsonObject header = JsonParser.parseString(new String(file, 8, n, StandardCharsets.UTF_8)).getAsJsonObject();
        byte[] data = Arrays.copyOfRange(file, 8 + n, file.length);
        dataLength = data.length;
        extraBytes = 0;
        edit.accept(header);
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length + extraBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);     // the appended bytes stay zero
        Files.write(out.resolve("model.safetensors"), b.array());
        return out;
    }
}
