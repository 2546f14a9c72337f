package dev.interlayer.models.io;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import java.util.Set;

/**
 * Named tensors read from a model file or folder, memory-mapped (not copied to the heap). Closing
 * the source unmaps its files; tensors obtained from it must not be used afterwards.
 */
public interface WeightSource extends AutoCloseable {

    /** All tensor names in the source. */
    Set<String> names();

    /** True if the source has a tensor called {@code name}. */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * The tensor called {@code name}, as a read-only view of the mapped file in its stored dtype and
     * in the file's dimension order (row-major, outermost first).
     *
     * @throws IllegalArgumentException if absent; the message lists the closest names
     */
    Tensor tensor(String name);

    /** Stored dtype of {@code name}. */
    DType dtype(String name);

    @Override
    void close();

    /** Closest names to {@code name} (by edit distance), for error messages. */
    static String closest(Set<String> names, String name, int limit) {
        return names.stream()
                .sorted(java.util.Comparator.comparingInt((String s) -> Levenshtein.distance(s, name))
                        .thenComparing(s -> s))
                .limit(limit).toList().toString();
    }
}
