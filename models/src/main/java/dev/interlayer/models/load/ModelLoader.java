package dev.interlayer.models.load;

import com.google.gson.JsonObject;
import dev.interlayer.models.family.Families;
import dev.interlayer.models.family.Family;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.models.io.UsageTrackingWeightSource;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Opens a model by path and picks its family from the {@link Families} registry:
 * <ul>
 *   <li>a {@code .gguf} file (or any file starting with the GGUF magic): by {@code general.architecture};</li>
 *   <li>a folder: a Hugging Face folder, by {@code config.json} {@code architectures[0]} (else
 *       {@code model_type});</li>
 *   <li>an {@code .onnx} file: an export of a family that reads ONNX (BERT encoders).</li>
 * </ul>
 * Encoders give hidden states only ({@link LoadedModel#lm()} is null). The tokenizer comes from GGUF
 * metadata or a {@code tokenizer.json} next to the weights; none is required (callers may pass token ids).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    /**
     * A full collection for a command that has just opened a model and will now run it: the load's temporaries
     * (tokenizer source strings, builder tables) are freed and the old generation shrinks (the launcher sets
     * the heap free ratios) before decoding pages the mapped weights in, so peak RSS is weights + live heap
     * rather than weights + load garbage. Tens of ms; {@link #open} does not do it because tests and tools
     * open many small models.
     */
    public static void releaseLoadGarbage() {
        System.gc();
    }

    /**
     * Opens {@code path} (GGUF file, HF folder or ONNX file).
     *
     * @throws ModelFormatException for an unknown family or a corrupt/unsupported file
     * @throws IOException          if the path cannot be read
     */
    public static LoadedModel open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return openHf(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null,
                    "expected a .gguf file, a Hugging Face folder or an .onnx file");
        }
        if (isGguf(path)) {
            return openGguf(path);
        }
        if (path.getFileName().toString().endsWith(".onnx")) {
            return openOnnx(path);
        }
        throw new ModelFormatException(path, 0, "model file", "GGUF (magic 'GGUF'), an .onnx file or a folder",
                "an unrecognised file");
    }

    private static boolean isGguf(Path path) throws IOException {
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(magic, 0, 4) == 4 && Arrays.equals(magic, new byte[] {'G', 'G', 'U', 'F'});
        }
    }

    /**
     * Names that {@code family} deliberately does not read (tied-head duplicates, rotary/position buffers,
     * heads it does not compute); anything else left unread after a load is reported as a warning.
     */
    public static Predicate<String> ignoredBy(String family) {
        Optional<Family> f = Families.byName(family);
        return f.isEmpty() ? name -> false : f.get()::ignores;
    }

    /**
     * Logs one warning (logger {@code dev.interlayer.models}) naming the tensors of {@code tensors} that the
     * load did not request and {@code family} does not deliberately ignore.
     */
    static void warnUnused(UsageTrackingWeightSource tensors, Path file, String family) {
        tensors.warnUnused(file.getFileName().toString(), family, ignoredBy(family));
    }

    /** The family of a GGUF architecture name, or null if unsupported. */
    public static String ggufFamily(String arch) {
        return Families.forGguf(arch).map(Family::name).orElse(null);
    }

    /** The family named by an HF config: architectures[0] first, then model_type; null if unsupported. */
    public static String hfFamily(JsonObject config) {
        return Families.forHuggingFace(config).map(Family::name).orElse(null);
    }

    private static LoadedModel openGguf(Path path) throws IOException {
        GgufFile f = Gguf.open(path);
        return closingOnFailure(f::close, () -> {
            Family family = Families.requireGguf(path, f.architecture());
            Tokenizer tok = f.get("tokenizer.ggml.model") != null ? Tokenizers.fromGguf(f) : null;
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(f);
            return loaded(family, "gguf", family.builder().gguf().build(f, tracked), tracked, path, tok, f);
        });
    }

    private static LoadedModel openHf(Path dir) throws IOException {
        HfFolder folder = HfFolder.open(dir);
        Path weightsFile = Files.isRegularFile(dir.resolve("model.safetensors")) ? dir.resolve("model.safetensors")
                : dir.resolve("model.safetensors.index.json");
        return closingOnFailure(folder::close, () -> {
            Family family = Families.requireHuggingFace(dir.resolve("config.json"), folder.config());
            Tokenizer tok = folder.tokenizerJson().isPresent() ? Tokenizers.fromHuggingFace(folder.tokenizerJson().get())
                    : null;
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(folder.weights());
            return loaded(family, "hf", family.builder().hf().build(folder, tracked), tracked, weightsFile, tok,
                    folder);
        });
    }

    private static LoadedModel openOnnx(Path path) throws IOException {
        OnnxWeights w = OnnxWeights.open(path);
        return closingOnFailure(w::close, () -> {
            // ONNX exports carry no architecture name: the one family that reads them (BERT) takes the file
            List<Family> readers = Families.onnxFamilies();
            if (readers.size() != 1) {
                throw new ModelFormatException(path, 0, "ONNX export", "the one family that reads ONNX",
                        readers.size() + " such families: " + readers.stream().map(Family::name).toList());
            }
            Family family = readers.get(0);
            UsageTrackingWeightSource tracked = new UsageTrackingWeightSource(w);
            HiddenStates model = family.builder().onnx().build(w, tracked);
            String name = path.getFileName().toString();
            Path tj = path.resolveSibling(name.replaceFirst("\\.onnx$", "") + "-tokenizer.json");
            if (!Files.isRegularFile(tj)) {
                tj = path.resolveSibling("tokenizer.json");
            }
            Tokenizer tok = Files.isRegularFile(tj) ? Tokenizers.fromHuggingFace(tj) : null;
            return loaded(family, "onnx", model, tracked, path, tok, w);
        });
    }

    // Loads a model out of a freshly opened file or folder, or closes that when loading fails (on success the
    // LoadedModel owns it).
    private static LoadedModel closingOnFailure(Runnable close, Loading load) throws IOException {
        try {
            return load.load();
        } catch (IOException | RuntimeException e) {
            close.run();
            throw e;
        }
    }

    @FunctionalInterface
    private interface Loading {
        LoadedModel load() throws IOException;
    }

    // The built model of family with its tokenizer, owning resource; first warns about tensors of file the family
    // neither read nor ignores on purpose.
    private static LoadedModel loaded(Family family, String source, HiddenStates model,
                                      UsageTrackingWeightSource tracked, Path file, Tokenizer tok,
                                      AutoCloseable resource) {
        warnUnused(tracked, file, family.name());
        CausalLM lm = family.kind() == Family.Kind.DECODER ? (CausalLM) model : null;
        return new LoadedModel(family.name(), source, lm, model, tok, resource);
    }

    /** Names of the families this loader knows, in registry order. */
    public static List<String> families() {
        return Families.names();
    }
}
