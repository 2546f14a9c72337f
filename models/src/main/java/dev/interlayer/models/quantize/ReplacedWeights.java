package dev.interlayer.models.quantize;

import dev.interlayer.models.io.WeightSource;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * A {@link WeightSource} that serves some tensors from memory (for example dequantized copies of quantized
 * weights, to measure a quantizer's effect on a model) and every other tensor from the underlying source.
 * Closing it closes the delegate.
 */
public final class ReplacedWeights implements WeightSource {
    private final WeightSource delegate;
    private final Map<String, Tensor> replaced;

    /**
     * @param replaced tensors by name; each must exist in {@code delegate} with the same shape
     * @throws IllegalArgumentException if a name is unknown to the delegate
     * @throws ShapeMismatchException   if a replacement's shape differs from the original's
     */
    public ReplacedWeights(WeightSource delegate, Map<String, Tensor> replaced) {
        for (Map.Entry<String, Tensor> e : replaced.entrySet()) {
            if (!delegate.contains(e.getKey())) {
                throw new IllegalArgumentException("ReplacedWeights: no tensor '" + e.getKey() + "' to replace; closest: "
                        + WeightSource.closest(delegate.names(), e.getKey(), 3));
            }
            Tensor original = delegate.tensor(e.getKey());
            if (!original.shape().equals(e.getValue().shape())) {
                throw ShapeMismatchException.of("ReplacedWeights " + e.getKey(), "replacement must keep the shape",
                        original.shape(), e.getValue().shape());
            }
        }
        this.delegate = delegate;
        this.replaced = Map.copyOf(replaced);
    }

    @Override
    public Set<String> names() {
        return delegate.names();
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = replaced.get(name);
        return t != null ? t : delegate.tensor(name);
    }

    @Override
    public DType dtype(String name) {
        Tensor t = replaced.get(name);
        return t != null ? t.dtype() : delegate.dtype(name);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
