package dev.interlayer.tensor.kernel;

import dev.interlayer.tensor.Shape;
import java.util.function.Consumer;

/** Visits every index of a shape in row-major order (slow; for reference kernels and tests). */
public final class StridedIter {
    private StridedIter() {
    }

    /** Calls {@code body} with each index; the array is reused between calls. */
    public static void forEach(Shape s, Consumer<int[]> body) {
        if (s.size() == 0) {
            return;
        }
        int[] idx = new int[s.rank()];
        long n = s.size();
        for (long k = 0; k < n; k++) {
            body.accept(idx);
            for (int i = s.rank() - 1; i >= 0; i--) {
                if (++idx[i] < s.dim(i)) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }
}
