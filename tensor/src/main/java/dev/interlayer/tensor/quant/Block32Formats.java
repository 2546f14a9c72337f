package dev.interlayer.tensor.quant;

import static dev.interlayer.tensor.quant.BlockFormat.I32;
import static dev.interlayer.tensor.quant.BlockFormat.I8;
import static dev.interlayer.tensor.quant.BlockFormat.f16;
import static dev.interlayer.tensor.quant.BlockFormat.u8;

import java.lang.foreign.MemorySegment;

/**
 * The block decoders of the 32-value formats (ggml's "legacy" quants and IQ4_NL), each a
 * {@link BlockFormat.BlockDecoder}. In the 4- and 5-bit ones, byte {@code j} of {@code qs[16]} holds
 * element {@code j} in its low nibble and element {@code j + 16} in its high nibble; Q5's fifth bits
 * are the little-endian uint32 {@code qh}, bit {@code i} for element {@code i}.
 */
final class Block32Formats {
    private Block32Formats() {
    }

    /** IQ4_NL's non-linear grid: code c (0..15) means {@code KVALUES[c]·d}. */
    static final byte[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** Q8_0 = {@code d:f16, qs[32]:int8}; {@code x_i = q_i·d}. */
    static void q8_0(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off);
        for (int i = 0; i < 32; i++) {
            out[o + i] = s.get(I8, off + 2 + i) * d;
        }
    }

    /** Q4_0 = {@code d:f16, qs[16]}; {@code x = d·(q − 8)}. */
    static void q4_0(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off);
        for (int j = 0; j < 16; j++) {
            int b = u8(s, off + 2 + j);
            out[o + j] = d * ((b & 15) - 8);
            out[o + j + 16] = d * ((b >>> 4) - 8);
        }
    }

    /** Q4_1 = {@code d:f16, m:f16, qs[16]}; {@code x = d·q + m}. */
    static void q4_1(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off), m = f16(s, off + 2);
        for (int j = 0; j < 16; j++) {
            int b = u8(s, off + 4 + j);
            out[o + j] = d * (b & 15) + m;
            out[o + j + 16] = d * (b >>> 4) + m;
        }
    }

    /** Q5_0 = {@code d:f16, qh:u32, qs[16]}; {@code x = d·(q5 − 16)}. */
    static void q5_0(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off);
        int qh = s.get(I32, off + 2);
        for (int j = 0; j < 16; j++) {
            int b = u8(s, off + 6 + j);
            out[o + j] = d * (((b & 15) | ((qh >>> j) & 1) << 4) - 16);
            out[o + j + 16] = d * (((b >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16);
        }
    }

    /** Q5_1 = {@code d:f16, m:f16, qh:u32, qs[16]}; {@code x = d·q5 + m}. */
    static void q5_1(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off), m = f16(s, off + 2);
        int qh = s.get(I32, off + 4);
        for (int j = 0; j < 16; j++) {
            int b = u8(s, off + 8 + j);
            out[o + j] = d * ((b & 15) | ((qh >>> j) & 1) << 4) + m;
            out[o + j + 16] = d * ((b >>> 4) | ((qh >>> (j + 16)) & 1) << 4) + m;
        }
    }

    /** IQ4_NL = {@code d:f16, qs[16]}; {@code x = d·KVALUES[q]}. */
    static void iq4Nl(MemorySegment s, long off, float[] out, int o) {
        iq4Nibbles(s, off + 2, f16(s, off), out, o);
    }

    /**
     * The 32 values of 16 bytes of IQ4_NL codes at {@code qs} (nibble order as above) under scale
     * {@code d}: IQ4_NL's whole block, and each 32-value sub-block of IQ4_XS.
     */
    static void iq4Nibbles(MemorySegment s, long qs, float d, float[] out, int o) {
        for (int j = 0; j < 16; j++) {
            int b = u8(s, qs + j);
            out[o + j] = d * KVALUES[b & 15];
            out[o + j + 16] = d * KVALUES[b >>> 4];
        }
    }
}
