package dev.interlayer.tensor.quant;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.ThreadSlot;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A GGML block format read in place: the scalar reference codec of one block-quantized {@link DType}.
 *
 * <p>A row of {@code n} values is {@code n / blockSize} consecutive blocks of {@code blockBytes} bytes;
 * block {@code b} of a row starting at byte {@code off} starts at {@code off + b·blockBytes}. Every
 * block holds small integer codes and one or more scales (f16, or 6-bit / 8-bit sub-block scales
 * under an f16 super-block scale), and a value is {@code scale · code} or {@code scale · code − min}.
 * The layouts are ggml's ({@code ggml-common.h}); the arithmetic order of each dequantizer is the
 * one of ggml's {@code dequantize_row_*} (and of the {@code gguf} Python package), so results are
 * bit-identical to both: single-precision products and sums, no fused multiply-add.
 *
 * <p>These are the oracles: plain loops, one block at a time. The fast kernels in
 * {@link QuantMatMul} are tested against them.
 */
public final class BlockFormat {
    /** Little-endian unaligned layouts for reading mapped files. */
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    /** Largest block in values (the K-quant super-block). */
    static final int MAX_BLOCK = 256;
    private static final ThreadSlot<float[]> SCRATCH = new ThreadSlot<>();

    /** Decodes the block at byte {@code off} of {@code s} into {@code out[o .. o + blockSize)}. */
    @FunctionalInterface
    interface BlockDecoder {
        void decode(MemorySegment s, long off, float[] out, int o);
    }

    private final DType dtype;
    private final BlockDecoder decoder;
    private final int[] scaleOffsets;

    /** @param scaleOffsets byte offsets of the block's f16 scale fields ({@code d}, {@code dmin}, {@code m}) */
    BlockFormat(DType dtype, BlockDecoder decoder, int... scaleOffsets) {
        this.dtype = dtype;
        this.decoder = decoder;
        this.scaleOffsets = scaleOffsets;
    }

    /**
     * Index of the first of {@code blocks} consecutive blocks from byte {@code off} whose f16 scales
     * include a NaN or an infinity, or −1. Reads only the scale fields. A file with such a block is
     * corrupt: every product touching it is NaN.
     */
    public long firstNonFiniteScale(MemorySegment src, long off, long blocks) {
        int bb = blockBytes();
        for (long b = 0; b < blocks; b++) {
            for (int so : scaleOffsets) {
                if ((src.get(I16, off + b * bb + so) & 0x7C00) == 0x7C00) {   // exponent all ones: Inf or NaN
                    return b;
                }
            }
        }
        return -1;
    }

    /** The dtype this format decodes. */
    public DType dtype() {
        return dtype;
    }

    /** Values per block. */
    public int blockSize() {
        return dtype.blockSize();
    }

    /** Bytes per block. */
    public int blockBytes() {
        return dtype.blockBytes();
    }

    /** Decodes the block at byte {@code off} of {@code src} into {@code out[outOff .. outOff + blockSize)}. */
    public void dequantizeBlock(MemorySegment src, long off, float[] out, int outOff) {
        decoder.decode(src, off, out, outOff);
    }

    /**
     * Decodes {@code n} values (whole blocks) starting at byte {@code off} into {@code out[outOff ..]}:
     * the embedding lookup of one row, and the reference every kernel is checked against.
     */
    public void dequantizeRow(MemorySegment src, long off, int n, float[] out, int outOff) {
        requireWholeBlocks(n);
        int bs = blockSize(), bb = blockBytes();
        for (int b = 0, blocks = n / bs; b < blocks; b++) {
            dequantizeBlock(src, off + (long) b * bb, out, outOff + b * bs);
        }
    }

    /**
     * Reference dot product Σ_i dequant(w)[i]·x[xOff + i] of the {@code n}-value row at byte {@code off}:
     * each block is decoded into a per-thread buffer and summed in single precision, block sums added
     * in order. Allocates nothing once the thread's buffer exists.
     */
    public float dot(MemorySegment w, long off, int n, float[] x, int xOff) {
        requireWholeBlocks(n);
        float[] buf = SCRATCH.lease();
        if (buf == null) {
            buf = new float[MAX_BLOCK];
        }
        int bs = blockSize(), bb = blockBytes();
        float sum = 0;
        for (int b = 0, blocks = n / bs; b < blocks; b++) {
            dequantizeBlock(w, off + (long) b * bb, buf, 0);
            float s = 0;
            int xb = xOff + b * bs;
            for (int i = 0; i < bs; i++) {
                s += buf[i] * x[xb + i];
            }
            sum += s;
        }
        SCRATCH.release(buf);
        return sum;
    }

    /** Byte size of a row of {@code n} values. */
    public long rowBytes(int n) {
        requireWholeBlocks(n);
        return (long) (n / blockSize()) * blockBytes();
    }

    private void requireWholeBlocks(int n) {
        if (n < 0 || n % blockSize() != 0) {
            throw new IllegalArgumentException(dtype + " rows are whole blocks of " + blockSize() + " values; got "
                    + n);
        }
    }

    /** The f16 at byte {@code off}, as float. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    /** The unsigned byte at {@code off}. */
    static int u8(MemorySegment s, long off) {
        return s.get(I8, off) & 0xFF;
    }

    @Override
    public String toString() {
        return dtype.toString();
    }
}
