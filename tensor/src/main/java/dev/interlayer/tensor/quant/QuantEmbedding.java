package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;

/**
 * Embedding lookup in a block-quantized table read in place: each requested row is dequantized on its
 * own (never the whole table), straight into the output when it is a writable F32 heap tensor.
 */
public final class QuantEmbedding {
    private QuantEmbedding() {
    }

    /**
     * out[t, :] = dequant(table[ids[t], :]).
     *
     * @throws ShapeMismatchException   unless table is [vocab, d] and out [ids.length, d]
     * @throws IndexOutOfBoundsException naming the position, the id and the vocabulary size (nothing is written)
     */
    public static Tensor lookup(Tensor table, int[] ids, Tensor out) {
        BlockFormat f = BlockFormats.of(table.dtype());
        if (table.rank() != 2 || out.rank() != 2 || out.dim(0) != ids.length || out.dim(1) != table.dim(1)) {
            throw new ShapeMismatchException("embedding: need table [vocab, d] and out [" + ids.length
                    + ", d] (got table " + table.shape() + ", out " + out.shape() + ")");
        }
        int vocab = table.dim(0), d = table.dim(1);
        long rowBytes = f.rowBytes(d);
        float[] dst = out.dtype() == DType.F32 && !out.isReadOnly() && out.stride(1) == 1 ? out.heapFloats() : null;
        float[] tmp = dst == null ? new float[d] : null;
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= vocab) {
                throw new IndexOutOfBoundsException("embedding: id " + ids[t] + " at position " + t
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        for (int t = 0; t < ids.length; t++) {
            int id = ids[t];
            long src = table.byteOffset() + id * rowBytes;
            if (dst != null) {
                int o = Math.toIntExact(out.segment().address() / Float.BYTES + out.offset() + t * out.stride(0));
                f.dequantizeRow(table.segment(), src, d, dst, o);
            } else {
                f.dequantizeRow(table.segment(), src, d, tmp, 0);
                out.select(0, t).copyFrom(Tensor.wrap(tmp));
            }
        }
        return out;
    }
}
