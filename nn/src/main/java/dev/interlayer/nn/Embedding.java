package dev.interlayer.nn;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.FloatFormats;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;

/**
 * Token embedding: out[t] = table[token[t]] · scale (scale = 1 for most families, sqrt(d) rounded to
 * the activation dtype for Gemma, see {@link #sqrtDimScale}).
 *
 * <p>Shapes: table [vocab, dim] (F32/F16/BF16); out [T, dim] F32.
 *
 * @param table [vocab, dim]
 * @param scale multiplier applied to each looked-up row
 */
public record Embedding(Tensor table, float scale) {
    /**
     * Checks table [vocab, dim] and a finite scale.
     *
     * @throws ShapeMismatchException  if table is null or not rank 2
     * @throws IllegalArgumentException if scale is not finite
     */
    public Embedding {
        if (table == null || table.rank() != 2) {
            throw new ShapeMismatchException("Embedding: table must be [vocab, dim], got "
                    + (table == null ? "null" : table.shape()));
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("Embedding: scale must be finite, got " + scale);
        }
    }

    /** An unscaled embedding. */
    public Embedding(Tensor table) {
        this(table, 1f);
    }

    /**
     * Gemma's embedding multiplier: sqrt(dim) rounded to the activation dtype (bf16: sqrt(3072) =
     * 55.4256 becomes 55.5), because HF multiplies by a tensor of that dtype.
     */
    public static float sqrtDimScale(int dim, DType activation) {
        float s = (float) Math.sqrt(dim);
        return switch (activation) {
            case F32 -> s;
            case BF16 -> FloatFormats.bf16ToF32(FloatFormats.f32ToBf16(s));
            case F16 -> FloatFormats.f16ToF32(FloatFormats.f32ToF16(s));
            default -> throw new IllegalArgumentException("activation dtype must be F32, F16 or BF16, got "
                    + activation);
        };
    }

    /** Vocabulary size. */
    public int vocab() {
        return table.dim(0);
    }

    /** Embedding width. */
    public int dim() {
        return table.dim(1);
    }

    /**
     * out[t, :] = table[tokens[t], :] · scale. Modifies {@code out}.
     *
     * @throws IllegalArgumentException if a token is outside [0, vocab)
     * @throws ShapeMismatchException   unless out is [tokens.length, dim]
     */
    public Tensor lookup(int[] tokens, Tensor out) {
        return lookup(tokens, 0, tokens.length, out);
    }

    /**
     * out[t, :] = table[tokens[off + t], :] · scale for t &lt; len. Modifies {@code out}; allocates nothing
     * for an F32 heap output (the decode path).
     *
     * @throws IllegalArgumentException if a token is outside [0, vocab) or the range is outside {@code tokens}
     * @throws ShapeMismatchException   unless out is [len, dim]
     */
    public Tensor lookup(int[] tokens, int off, int len, Tensor out) {
        int d = dim();
        if (off < 0 || len < 0 || off + len > tokens.length) {
            throw new IllegalArgumentException("Embedding.lookup: tokens [" + off + ", " + (off + len) + ") outside "
                    + tokens.length);
        }
        if (out.rank() != 2 || out.dim(0) != len || out.dim(1) != d) {
            throw new ShapeMismatchException("Embedding.lookup: out must be [" + len + ", " + d + "], got "
                    + out.shape());
        }
        for (int t = 0; t < len; t++) {
            int tok = tokens[off + t];
            if (tok < 0 || tok >= vocab()) {
                throw new IllegalArgumentException("Embedding.lookup: token " + tok + " at index " + (off + t)
                        + " is outside the vocabulary [0, " + vocab() + ")");
            }
        }
        float[] src = table.heapFloats(), dst = out.heapFloats();
        boolean heapOut = dst != null && out.stride(1) == 1 && !out.isReadOnly();
        if (heapOut && src != null && table.stride(1) == 1) {
            // F32 heap table and output: row copies (Ops.embedding allocates two row cursors per call)
            long srcBase = table.segment().address() / Float.BYTES + table.offset();
            long dstBase = out.segment().address() / Float.BYTES + out.offset();
            for (int t = 0; t < len; t++) {
                System.arraycopy(src, (int) (srcBase + tokens[off + t] * table.stride(0)), dst,
                        (int) (dstBase + t * out.stride(0)), d);
            }
        } else if (heapOut && table.dtype().isQuantized()) {
            // block-quantized table (GGUF Q8_0 … Q6_K): each requested row decoded straight into the output
            // by the format's reference codec; no token-range copy, nothing allocated per token
            BlockFormat f = BlockFormats.of(table.dtype());
            long dstBase = out.segment().address() / Float.BYTES + out.offset();
            for (int t = 0; t < len; t++) {
                long row = table.offset() + tokens[off + t] * table.stride(0);
                int o = (int) (dstBase + t * out.stride(0));
                f.dequantizeRow(table.segment(), table.dtype().byteSize(row), d, dst, o);
            }
        } else if (heapOut) {
            // mapped (F32/F16/BF16) table, heap output: element reads, nothing allocated per token
            long dstBase = out.segment().address() / Float.BYTES + out.offset();
            for (int t = 0; t < len; t++) {
                long row = table.offset() + tokens[off + t] * table.stride(0);
                int o = (int) (dstBase + t * out.stride(0));
                for (int i = 0; i < d; i++) {
                    dst[o + i] = table.readFloat(row + i * table.stride(1));
                }
            }
        } else {
            // non-heap outputs
            Ops.embedding(table, len == tokens.length && off == 0 ? tokens
                    : java.util.Arrays.copyOfRange(tokens, off, off + len), out);
        }
        if (scale != 1f) {
            Ops.scale(out, scale, out);
        }
        return out;
    }
}
