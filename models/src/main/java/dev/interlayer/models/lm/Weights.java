package dev.interlayer.models.lm;

import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.nio.file.Path;

/**
 * Shape-checked lookup of named tensors in a {@link WeightSource} (GGUF file or safetensors folder),
 * turning a missing or mis-shaped tensor into a {@link ModelFormatException} that names the file, the
 * tensor, the expected and the found shape.
 *
 * @param source the tensors
 * @param file   the file or folder, for messages
 */
public record Weights(WeightSource source, Path file) {

    /**
     * The tensor {@code name}, which must have shape {@code dims} (outermost first).
     *
     * @throws ModelFormatException if absent (the message lists the closest names), mis-shaped or not F32/F16/BF16
     */
    public Tensor get(String name, int... dims) throws ModelFormatException {
        if (!source.contains(name)) {
            throw new ModelFormatException(file, -1, "tensor '" + name + "'", "present",
                    "absent (closest: " + WeightSource.closest(source.names(), name, 3) + ")");
        }
        Tensor t;
        try {
            t = source.tensor(name);
        } catch (UnsupportedOperationException e) {
            throw new ModelFormatException(file, -1, "tensor '" + name + "' type", "F32, F16 or BF16",
                    source.dtype(name) + " (quantized weights are not supported by this family yet)");
        }
        Shape want = Shape.of(dims);
        if (!t.shape().equals(want)) {
            throw new ModelFormatException(file, -1, "tensor '" + name + "' shape", want + " (outermost first)",
                    t.shape().toString());
        }
        if (!t.dtype().isFloatingPoint()) {
            throw new ModelFormatException(file, -1, "tensor '" + name + "' type", "F32, F16 or BF16",
                    t.dtype().toString());
        }
        return t;
    }

    /** Like {@link #get} but returns null when the tensor is absent. */
    public Tensor optional(String name, int... dims) throws ModelFormatException {
        return source.contains(name) ? get(name, dims) : null;
    }

    /** True if the source has {@code name}. */
    public boolean has(String name) {
        return source.contains(name);
    }
}
