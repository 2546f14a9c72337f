package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;

/** Per-head [t, heads, dh] views of a RowBuffer's first t rows, created once per t (decode reuses one). */
final class HeadViews {
    private final RowBuffer rows;
    private final int heads, dh;
    private final Tensor[] views; // [maxRows + 1], lazily filled

    HeadViews(RowBuffer rows, int heads, int dh) {
        this.rows = rows;
        this.heads = heads;
        this.dh = dh;
        this.views = new Tensor[rows.maxRows() + 1];
    }

    Tensor get(int t) {
        Tensor v = views[t];
        if (v == null) {
            v = rows.rows(t).reshape(t, heads, dh);
            views[t] = v;
        }
        return v;
    }
}
