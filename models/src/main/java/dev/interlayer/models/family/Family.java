package dev.interlayer.models.family;

import com.google.gson.JsonObject;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.models.lm.HiddenStates;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Everything the loader, {@code inspect}, {@code embed} and the docs need to know about one model family,
 * in one record; {@link Families} lists them. A family's package holds its config parser, tensor names and
 * builder; this record points at them.
 *
 * @param name           short name ("llama", "bert", …), also {@code LoadedModel.family()}
 * @param kind           decoder (causal LM) or encoder (hidden states only)
 * @param architectures  the names files use for this family
 * @param config         config parsers and a one-line description of a parsed config
 * @param tensorNames    how the family names its tensors in each format (for docs and {@code inspect})
 * @param ignoredTensors tensor names the family deliberately does not read (tied-head duplicates, buffers of
 *                       older checkpoints, heads it does not compute); anything else left unread is warned about
 * @param builder        turns a file's tensors into a model
 */
public record Family(String name, Kind kind, Architectures architectures, Configs config, TensorNames tensorNames,
                     Pattern ignoredTensors, Builders builder) {
    /** Validates that every part is present. */
    public Family {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(architectures, "architectures");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tensorNames, "tensorNames");
        Objects.requireNonNull(ignoredTensors, "ignoredTensors");
        Objects.requireNonNull(builder, "builder");
    }

    /** What a family's model computes. */
    public enum Kind {
        /** A causal LM: logits, generation and hidden states. */
        DECODER,
        /** A bidirectional encoder: hidden states (and sentence embeddings) only. */
        ENCODER
    }

    /**
     * The names files use for a family.
     *
     * @param gguf            GGUF {@code general.architecture} values
     * @param hfModelTypes    Hugging Face {@code config.json} {@code model_type} values
     * @param hfArchitectures Hugging Face {@code config.json} {@code architectures[0]} values
     */
    public record Architectures(List<String> gguf, List<String> hfModelTypes, List<String> hfArchitectures) {
        /** Copies the lists. */
        public Architectures {
            gguf = List.copyOf(gguf);
            hfModelTypes = List.copyOf(hfModelTypes);
            hfArchitectures = List.copyOf(hfArchitectures);
        }
    }

    /** Reads a family's config record from GGUF metadata. */
    @FunctionalInterface
    public interface GgufConfig {
        /** The parsed config. @throws ModelFormatException naming the missing or bad key */
        Object parse(GgufFile file) throws ModelFormatException;
    }

    /** Reads a family's config record from a Hugging Face {@code config.json}. */
    @FunctionalInterface
    public interface HfConfig {
        /** The parsed config. @throws IllegalArgumentException naming the missing or bad key */
        Object parse(JsonObject config);
    }

    /**
     * The config parsers of a family.
     *
     * @param gguf     from GGUF metadata
     * @param hf       from {@code config.json}
     * @param describe one line describing a parsed config ({@code toString} unless the family prefers another)
     */
    public record Configs(GgufConfig gguf, HfConfig hf, Function<Object, String> describe) {
        /** Parsers whose configs describe themselves with {@code toString}. */
        public Configs(GgufConfig gguf, HfConfig hf) {
            this(gguf, hf, Object::toString);
        }
    }

    /**
     * The tensor-name map of a family: every tensor name it reads, per format, without the {@code .weight} /
     * {@code .bias} suffix and with {@code N} for a block or expert index ({@code blk.N.attn_q},
     * {@code model.layers.N.mlp.experts.N.up_proj}). A test checks every tensor of the checked-in fixtures
     * against it.
     *
     * @param gguf       llama.cpp GGUF names
     * @param hf         Hugging Face safetensors names (ONNX exports of HF models use the same)
     * @param hfPrefixes optional prefixes of HF names (wrapper modules such as {@code bert.}, {@code transformer.})
     */
    public record TensorNames(List<String> gguf, List<String> hf, List<String> hfPrefixes) {
        private static final Pattern INDEX = Pattern.compile("\\.\\d+\\.");
        private static final Pattern SUFFIX = Pattern.compile("\\.(weight|bias)$");

        /** Copies the lists. */
        public TensorNames {
            gguf = List.copyOf(gguf);
            hf = List.copyOf(hf);
            hfPrefixes = List.copyOf(hfPrefixes);
        }

        /** True if {@code tensorName} (a full name as stored in a GGUF file, or in an HF folder when {@code hf}) is listed. */
        public boolean lists(boolean hfNames, String tensorName) {
            String n = SUFFIX.matcher(tensorName).replaceFirst("");
            n = INDEX.matcher(INDEX.matcher(n).replaceAll(".N.")).replaceAll(".N.");   // overlapping ".0.1."
            if (!hfNames) {
                return gguf.contains(n);
            }
            if (hf.contains(n)) {
                return true;
            }
            for (String p : hfPrefixes) {
                if (n.startsWith(p) && hf.contains(n.substring(p.length()))) {
                    return true;
                }
            }
            return false;
        }

        /** One line for {@code inspect}: the names of one format, comma-separated. */
        public String line(boolean hfNames) {
            String names = String.join(", ", hfNames ? hf : gguf);
            return hfNames && !hfPrefixes.isEmpty() ? names + " (optionally under " + String.join(" or ", hfPrefixes)
                    + ")" : names;
        }
    }

    /** Builds a model from a GGUF file's metadata and tensors ({@code tensors} is the file or a decorator). */
    @FunctionalInterface
    public interface GgufBuilder {
        /** The model. @throws ModelFormatException for missing or mis-shaped tensors or unsupported settings */
        HiddenStates build(GgufFile file, WeightSource tensors) throws ModelFormatException;
    }

    /** Builds a model from a Hugging Face folder's config and tensors. */
    @FunctionalInterface
    public interface HfBuilder {
        /** The model. @throws ModelFormatException for missing or mis-shaped tensors or unsupported settings */
        HiddenStates build(HfFolder folder, WeightSource tensors) throws ModelFormatException;
    }

    /** Builds a model from an ONNX export (weights only; the config is read from the graph). */
    @FunctionalInterface
    public interface OnnxBuilder {
        /**
         * The model. @throws ModelFormatException for missing or mis-shaped tensors; IllegalArgumentException for
         * a graph the family cannot read
         */
        HiddenStates build(OnnxWeights onnx, WeightSource tensors) throws ModelFormatException;
    }

    /**
     * The builders of a family, one per format it reads; {@code onnx} is null when it reads no ONNX.
     * Decoder builders return models that also implement {@code CausalLM}.
     */
    public record Builders(GgufBuilder gguf, HfBuilder hf, OnnxBuilder onnx) {
    }

    /** True if the family deliberately does not read tensor {@code name}. */
    public boolean ignores(String tensorName) {
        return ignoredTensors.matcher(tensorName).matches();
    }

    /** True if the family reads ONNX exports. */
    public boolean readsOnnx() {
        return builder.onnx() != null;
    }
}
