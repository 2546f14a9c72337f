package dev.interlayer.tensor.kernel;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;

/** Iterates the last-axis rows of a tensor as 1-D views. */
public final class Rows {
    private Rows() {
    }

    /** A row-visitor over matching rows of an input and an output. */
    public interface RowPair {
        /** Visits one row: {@code in} and {@code out} are matching [n] views. */
        void accept(Tensor in, Tensor out);
    }

    /** A row-visitor that also receives the flat row index. */
    public interface IndexedRowPair {
        /** Visits row {@code row} (flat index over the leading axes): {@code in}, {@code out} are [n] views. */
        void accept(long row, Tensor in, Tensor out);
    }

    /** Number of last-axis rows. */
    public static long rowCount(Tensor t) {
        return t.rank() == 0 ? 1 : t.size() / Math.max(1, t.dim(-1));
    }

    /** Calls {@code body} for each last-axis row. */
    public static void forEachRow(Tensor x, Tensor out, RowPair body) {
        forEachRowIndexed(x, out, (r, a, b) -> body.accept(a, b));
    }

    /** Calls {@code body} for each last-axis row with its flat index. */
    public static void forEachRowIndexed(Tensor x, Tensor out, IndexedRowPair body) {
        if (x.rank() == 0 || x.dim(-1) == 0) {
            return;
        }
        long n = rowCount(x);
        for (long r = 0; r < n; r++) {
            body.accept(r, row(x, r), row(out, r));
        }
    }

    /** The flat row {@code r} of {@code t} (leading axes collapsed, row-major) as a 1-D view. */
    public static Tensor row(Tensor t, long r) {
        Tensor v = t;
        Shape s = t.shape();
        long rem = r;
        int[] idx = new int[s.rank() - 1];
        for (int i = s.rank() - 2; i >= 0; i--) {
            idx[i] = (int) (rem % s.dim(i));
            rem /= s.dim(i);
        }
        for (int i = 0; i < idx.length; i++) {
            v = v.select(0, idx[i]);
        }
        return v;
    }
}
