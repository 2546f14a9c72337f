package dev.interlayer.tensor.quant;

import static dev.interlayer.tensor.quant.BlockFormat.I16;
import static dev.interlayer.tensor.quant.BlockFormat.I8;
import static dev.interlayer.tensor.quant.BlockFormat.f16;
import static dev.interlayer.tensor.quant.BlockFormat.u8;

import java.lang.foreign.MemorySegment;

/**
 * The block decoders of the 256-value super-block formats ("K-quants" and IQ4_XS), each a
 * {@link BlockFormat.BlockDecoder}. Each super-block has one or two f16 scales ({@code d}, and
 * {@code dmin} for the ones with mins) and 8 or 16 sub-blocks whose own scales are small integers
 * relative to {@code d}; a value is {@code (d·sc)·q − (dmin·m)}.
 */
final class KQuantFormats {
    private KQuantFormats() {
    }

    /**
     * The 6-bit scale ({@code which = 0}) or min ({@code which = 1}) of sub-block {@code j} (0..7) in the
     * 12-byte scales field at {@code off} of Q4_K/Q5_K: sub-blocks 0..3 use the low 6 bits of bytes j and
     * j+4; 4..7 put their low 4 bits in byte j+4 and their high 2 bits in the top of bytes j−4 / j.
     */
    static int scaleMinK4(MemorySegment s, long off, int j, int which) {
        if (j < 4) {
            return u8(s, off + j + 4 * which) & 63;
        }
        int lo = u8(s, off + j + 4);
        return which == 0 ? (lo & 15) | ((u8(s, off + j - 4) >>> 6) << 4)
                : (lo >>> 4) | ((u8(s, off + j) >>> 6) << 4);
    }

    /** Q2_K = {@code scales[16], qs[64], d:f16, dmin:f16}; 16 sub-blocks of 16, 4-bit scale and min each. */
    static void q2_K(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off + 80), dmin = f16(s, off + 82);
        for (int e = 0; e < 256; e++) {
            int half = e >>> 7, shift = (e >>> 5) & 3, l = e & 31;
            int sc = u8(s, off + (e >>> 4));
            int q = (u8(s, off + 16 + half * 32 + l) >>> (2 * shift)) & 3;
            float dl = d * (sc & 15), ml = dmin * (sc >>> 4);
            out[o + e] = dl * q - ml;
        }
    }

    /**
     * Q3_K = {@code hmask[32], qs[64], scales[12], d:f16}; 16 sub-blocks of 16 with 6-bit scales stored
     * minus 32; a value is {@code (d·sc)·(q2 − 4·(1 − hbit))}.
     */
    static void q3_K(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off + 108);
        long sc = off + 96;
        for (int e = 0; e < 256; e++) {
            int half = e >>> 7, shift = (e >>> 5) & 3, l = e & 31, i = e >>> 4;
            int low = i < 8 ? u8(s, sc + i) & 15 : u8(s, sc + i - 8) >>> 4;
            int high = (u8(s, sc + 8 + (i & 3)) >>> (2 * (i >>> 2))) & 3;
            int scale = (low | high << 4) - 32;
            int q2 = (u8(s, off + 32 + half * 32 + l) >>> (2 * shift)) & 3;
            int hbit = (u8(s, off + l) >>> (e >>> 5)) & 1;
            out[o + e] = (d * scale) * (q2 - ((hbit ^ 1) << 2));
        }
    }

    /** Q4_K = {@code d:f16, dmin:f16, scales[12], qs[128]}; 8 sub-blocks of 32. */
    static void q4_K(MemorySegment s, long off, float[] out, int o) {
        q4OrQ5K(s, off, false, out, o);
    }

    /** Q5_K = {@code d:f16, dmin:f16, scales[12], qh[32], qs[128]}; Q4_K plus bit j of qh[l] as 5th bit. */
    static void q5_K(MemorySegment s, long off, float[] out, int o) {
        q4OrQ5K(s, off, true, out, o);
    }

    /** Q4_K, or with {@code fifth} Q5_K: the same sub-blocks; Q5_K's {@code qs} follow its {@code qh[32]}. */
    private static void q4OrQ5K(MemorySegment s, long off, boolean fifth, float[] out, int o) {
        float d = f16(s, off), dmin = f16(s, off + 2);
        long qs = off + (fifth ? 48 : 16);
        for (int j = 0; j < 8; j++) {
            float dl = d * scaleMinK4(s, off + 4, j, 0), ml = dmin * scaleMinK4(s, off + 4, j, 1);
            long q = qs + (j >>> 1) * 32;
            int shift = 4 * (j & 1);
            for (int l = 0; l < 32; l++) {
                int code = (u8(s, q + l) >>> shift) & 15;
                if (fifth) {
                    code |= ((u8(s, off + 16 + l) >>> j) & 1) << 4;
                }
                out[o + 32 * j + l] = dl * code - ml;
            }
        }
    }

    /**
     * Q6_K = {@code ql[128], qh[64], scales[16]:int8, d:f16}; 16 sub-blocks of 16. In half h, element
     * {@code 128h + 32s + l} (s = 0..3) takes nibble {@code s >> 1} of {@code ql[64h + 32(s & 1) + l]} and
     * bits {@code 2s, 2s+1} of {@code qh[32h + l]}; value {@code (d·scale)·(q6 − 32)}.
     */
    static void q6_K(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off + 208);
        for (int e = 0; e < 256; e++) {
            int h = e >>> 7, sub = (e >>> 5) & 3, l = e & 31;
            int lo = (u8(s, off + 64 * h + 32 * (sub & 1) + l) >>> (4 * (sub >>> 1))) & 15;
            int hi = (u8(s, off + 128 + 32 * h + l) >>> (2 * sub)) & 3;
            float dl = d * s.get(I8, off + 192 + (e >>> 4));
            out[o + e] = dl * ((lo | hi << 4) - 32);
        }
    }

    /**
     * IQ4_XS = {@code d:f16, scales_h:u16, scales_l[4], qs[128]}; 8 sub-blocks of 32 with 6-bit scales
     * (stored minus 32) over IQ4_NL's grid; nibble order per sub-block as in IQ4_NL.
     */
    static void iq4Xs(MemorySegment s, long off, float[] out, int o) {
        float d = f16(s, off);
        int sh = s.get(I16, off + 2) & 0xFFFF;
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((u8(s, off + 4 + ib / 2) >>> (4 * (ib & 1))) & 15) | ((sh >>> (2 * ib)) & 3) << 4;
            float dl = d * (ls - 32);
            Block32Formats.iq4Nibbles(s, off + 8 + 16L * ib, dl, out, o + 32 * ib);
        }
    }
}
