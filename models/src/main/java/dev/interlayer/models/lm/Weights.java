package dev.interlayer.models.lm;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufTensorInfo;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.quant.BlockFormats;
import dev.interlayer.tensor.Tensor;
import java.nio.file.Path;

/**
 * Shape-checked lookup of named tensors in a {@link WeightSource} (GGUF file or safetensors folder), the one
 * weight-lookup helper of the model loaders: a missing, mis-shaped or unsupported tensor becomes a
 * {@link ModelFormatException} that names the file, the tensor, the expected and the found shape (and, for
 * GGUF, the offset of the tensor's info record in the file).
 *
 * <p>For a GGUF file ({@link #of(GgufFile, WeightSource)}) the shape is checked against the file's tensor
 * info before the tensor is mapped, so a mis-shaped quantized tensor reports its shape, not its type.
 */
public final class Weights {
    /** What a matrix may be stored as: read in place by nn.Linear / nn.Embedding. */
    private static final String SUPPORTED = "F32, F16, BF16 or a block format (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K,"
            + " Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)";
    private final WeightSource source;
    private final Path file;
    private final GgufFile gguf;   // tensor infos (shape, offset) when the source is a GGUF file, else null

    /**
     * Tensors of {@code source}; {@code file} is the file or folder named in messages.
     *
     * @param source the tensors
     * @param file   the file or folder, for messages
     */
    public Weights(WeightSource source, Path file) {
        this(source, file, null);
    }

    private Weights(WeightSource source, Path file, GgufFile gguf) {
        this.source = source;
        this.file = file;
        this.gguf = gguf;
    }

    /**
     * Tensors looked up in {@code tensors} (the file itself or a decorator of it such as
     * {@link dev.interlayer.models.io.UsageTrackingWeightSource}), shapes and offsets from {@code file}'s infos.
     */
    public static Weights of(GgufFile file, WeightSource tensors) {
        return new Weights(tensors, file.path(), file);
    }

    /** The tensors looked up. */
    public WeightSource source() {
        return source;
    }

    /** The file or folder named in messages. */
    public Path file() {
        return file;
    }

    /**
     * The tensor {@code name}, which must have shape {@code dims} (outermost first).
     *
     * @throws ModelFormatException if absent (the message lists the closest names), mis-shaped, or of a type
     *                              nn cannot read in place (matrices: F32/F16/BF16 or a GGML block format;
     *                              vectors: F32/F16/BF16)
     */
    public Tensor get(String name, int... dims) throws ModelFormatException {
        if (!source.contains(name)) {
            throw new ModelFormatException(file, -1, "tensor '" + name + "'", "present",
                    "absent (closest: " + WeightSource.closest(source.names(), name, 3) + ")");
        }
        Shape want = Shape.of(dims);
        GgufTensorInfo info = gguf != null && gguf.contains(name) ? gguf.info(name) : null;
        long at = info == null ? -1 : info.infoOffset();
        if (info != null && !info.shape().equals(want)) {
            throw shapeError(name, at, want, info.shape());
        }
        Tensor t;
        try {
            t = source.tensor(name);
        } catch (UnsupportedOperationException e) {
            throw new ModelFormatException(file, at, "tensor '" + name + "' type", SUPPORTED,
                    String.valueOf(info != null ? info.type() : source.dtype(name)));
        }
        if (!t.shape().equals(want)) {
            throw shapeError(name, at, want, t.shape());
        }
        if (!t.dtype().isFloatingPoint() && !(BlockFormats.supports(t.dtype()) && dims.length >= 2)) {
            throw new ModelFormatException(file, at, "tensor '" + name + "' type",
                    dims.length >= 2 ? SUPPORTED : "F32, F16 or BF16 (a vector is never block-quantized)",
                    t.dtype().toString());
        }
        return t;
    }

    private ModelFormatException shapeError(String name, long at, Shape want, Shape got) {
        return new ModelFormatException(file, at, "tensor '" + name + "' shape", want + " (outermost first)",
                got.toString());
    }

    /** Like {@link #get} but returns null when the tensor is absent. */
    public Tensor optional(String name, int... dims) throws ModelFormatException {
        return source.contains(name) ? get(name, dims) : null;
    }

    /**
     * A vector [n] that a converter may also store as [1, n] (returned as an [n] view).
     *
     * @throws ModelFormatException if absent or of neither shape
     */
    public Tensor vector(String name, int n) throws ModelFormatException {
        Shape stored = !source.contains(name) ? null
                : gguf != null && gguf.contains(name) ? gguf.info(name).shape() : source.tensor(name).shape();
        return Shape.of(1, n).equals(stored) ? get(name, 1, n).reshape(Shape.of(n)) : get(name, n);
    }

    /** True if the source has {@code name}. */
    public boolean has(String name) {
        return source.contains(name);
    }
}
