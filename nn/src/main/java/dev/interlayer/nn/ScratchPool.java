package dev.interlayer.nn;

import java.util.HashMap;
import java.util.Map;

/**
 * Scratch buffers shared by the layers of one session. The layers of a stack run one after another, so a
 * temporary of layer ℓ (its normed input, its q/k/v rows, its FFN intermediate, its attention scores) is dead
 * once layer ℓ returns and the same memory can serve layer ℓ + 1: a session then holds one set of temporaries
 * instead of one per layer (for a 16-layer 1B model with 128-token chunks, ~20 MB instead of ~300 MB), and
 * the buffers stay warm in cache from one layer to the next.
 *
 * <p>A buffer is identified by a role name and its shape; a layer must use distinct roles for buffers that are
 * alive at the same time, and must not keep data in a pooled buffer from one call to the next. Mutable; one
 * thread owns it (the session's).
 */
public final class ScratchPool {
    private final Map<String, RowBuffer> rows = new HashMap<>();
    private final Map<String, float[][]> matrices = new HashMap<>();
    private final Map<String, ScratchPool> children = new HashMap<>();

    /**
     * The shared [maxRows, cols] buffer of {@code role}, or a private one when {@code pool} is null.
     *
     * @throws IllegalArgumentException if maxRows or cols is below 1
     */
    public static RowBuffer rows(ScratchPool pool, String role, int maxRows, int cols) {
        if (pool == null) {
            return new RowBuffer(maxRows, cols);
        }
        return pool.rows.computeIfAbsent(role + ' ' + maxRows + 'x' + cols, k -> new RowBuffer(maxRows, cols));
    }

    /**
     * The shared sub-pool of {@code role} (its buffers distinct from this pool's, as for one of several threads
     * that run a layer's parts at the same time), or null (private buffers) when {@code pool} is null.
     */
    public static ScratchPool child(ScratchPool pool, String role) {
        return pool == null ? null : pool.children.computeIfAbsent(role, k -> new ScratchPool());
    }

    /** The shared float[n][m] array of {@code role}, or a private one when {@code pool} is null. */
    public static float[][] matrix(ScratchPool pool, String role, int n, int m) {
        if (pool == null) {
            return new float[n][m];
        }
        return pool.matrices.computeIfAbsent(role + ' ' + n + 'x' + m, k -> new float[n][m]);
    }
}
