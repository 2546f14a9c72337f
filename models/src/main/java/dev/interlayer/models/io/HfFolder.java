package dev.interlayer.models.io;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A Hugging Face model folder: {@code config.json}, the weights ({@code model.safetensors} or a
 * sharded {@code model.safetensors.index.json}) and, when present, {@code tokenizer.json}.
 *
 * @param dir     the folder
 * @param config  parsed {@code config.json}
 * @param weights the mapped weights (owned: close the folder to unmap them)
 */
public record HfFolder(Path dir, JsonObject config, Safetensors weights) implements AutoCloseable {

    /**
     * Reads {@code config.json} and maps the weights of {@code dir}.
     *
     * @throws ModelFormatException if config.json does not parse or the weights are corrupt
     * @throws java.nio.file.NoSuchFileException if config.json or the weights are missing
     */
    public static HfFolder open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir + " (expected a Hugging Face model folder)");
        }
        Path cfg = dir.resolve("config.json");
        if (!Files.isRegularFile(cfg)) {
            throw new java.nio.file.NoSuchFileException(cfg.toString(), null, "a Hugging Face folder needs config.json");
        }
        JsonObject config = Safetensors.parseJsonFile(cfg);
        Path single = dir.resolve("model.safetensors"), index = dir.resolve("model.safetensors.index.json");
        Path weights = Files.isRegularFile(single) ? single : Files.isRegularFile(index) ? index : null;
        if (weights == null) {
            throw new java.nio.file.NoSuchFileException(single.toString(), null,
                    "no model.safetensors or model.safetensors.index.json");
        }
        return new HfFolder(dir, config, Safetensors.open(weights));
    }

    /** {@code tokenizer.json}, if the folder has one. */
    public Optional<Path> tokenizerJson() {
        Path p = dir.resolve("tokenizer.json");
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** The {@code model_type} from config.json, or "" if absent. */
    public String modelType() {
        return config.has("model_type") ? config.get("model_type").getAsString() : "";
    }

    @Override
    public void close() {
        weights.close();
    }
}
