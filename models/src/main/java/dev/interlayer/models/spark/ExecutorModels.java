package dev.interlayer.models.spark;

import dev.interlayer.models.embed.EmbeddingModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The embedding models of this JVM (a Spark executor), keyed by model path: loaded on first use and kept
 * for the JVM's lifetime, so every task and partition an executor runs shares one memory-mapped model
 * (an {@link EmbeddingModel} is thread-safe, and its weights are mapped once, not copied per task).
 * Never serialised: tasks carry only the key.
 */
public final class ExecutorModels {
    /** Key for {@link EmbeddingModel#defaultModel()} (all-MiniLM-L6-v2 from its jar on the job's class path). */
    public static final String DEFAULT_MODEL = "interlayer:default";

    private static final ConcurrentHashMap<String, EmbeddingModel> MODELS = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * This JVM's model for {@code key}: {@link #DEFAULT_MODEL}, or a path that {@link EmbeddingModel#open}
     * reads (GGUF, Hugging Face folder, ONNX), readable on every executor. Concurrent first calls load it once.
     *
     * @throws UncheckedIOException naming the key if the model cannot be loaded (a later call tries again)
     */
    public static EmbeddingModel get(String key) {
        return MODELS.computeIfAbsent(key, ExecutorModels::load);
    }

    /** How many times this JVM has loaded {@code key} (1 after any use: the model is loaded once). */
    public static int loads(String key) {
        AtomicInteger n = LOADS.get(key);
        return n == null ? 0 : n.get();
    }

    private static EmbeddingModel load(String key) {
        LOADS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        try {
            return DEFAULT_MODEL.equals(key) ? EmbeddingModel.defaultModel() : EmbeddingModel.open(Path.of(key));
        } catch (IOException e) {
            throw new UncheckedIOException("loading embedding model '" + key + "' on this executor: " + e.getMessage(), e);
        }
    }
}
