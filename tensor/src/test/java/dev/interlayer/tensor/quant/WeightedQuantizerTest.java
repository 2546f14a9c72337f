package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Importance-weighted quantization ({@link Quantizer#quantizeRow(DType, float[], int, int, float[], MemorySegment,
 * long)}) against ggml's own {@code quantize_<type>(src, dst, nrows, n_per_row, imatrix)}, byte for byte (fixture by
 * reference/quant/ggml_c_imatrix_fixtures.py: odd rows — zero super-block, negative zeros, one huge value,
 * subnormals, ties — with importance vectors holding zeros, a huge column, all-equal values, a zero block and a zero
 * super-block, and subnormal values), plus the properties that hold whatever ggml does.
 */
class WeightedQuantizerTest {
    private static final HexFormat HEX = HexFormat.of();

    static byte[] quantize(DType t, float[] rows, int n, float[] importance) {
        byte[] out = new byte[(int) t.byteSize(rows.length)];
        int rowBytes = (int) t.byteSize(n);
        for (int r = 0; r < rows.length / n; r++) {
            Quantizer.quantizeRow(t, rows, r * n, n, importance, MemorySegment.ofArray(out), (long) r * rowBytes);
        }
        return out;
    }

    @Test
    void everyTypeEqualsGgmlImportanceWeightedBytes() throws Exception {
        JsonObject doc = GgufPyFixturesTest.load("ggml_imatrix_ref.json");
        int n = doc.get("n_per_row").getAsInt();
        JsonArray inputs = doc.getAsJsonArray("inputs"), imp = doc.getAsJsonArray("importance");
        JsonObject bytes = doc.getAsJsonObject("bytes");
        assertEquals(Quantizer.TARGETS.length, bytes.size(), "every writable type has weighted fixtures");
        int checked = 0, nanBlocks = 0;
        for (String type : bytes.keySet()) {
            DType t = DType.valueOf(type);
            JsonArray want = bytes.getAsJsonArray(type);
            for (int c = 0; c < inputs.size(); c++) {
                float[] x = GgufPyFixturesTest.floats(inputs.get(c).getAsString());
                float[] w = GgufPyFixturesTest.floats(imp.get(c).getAsString());
                byte[] expected = HEX.parseHex(want.get(c).getAsString());
                nanBlocks += replaceZeroImportanceSuperBlocks(t, x, w, expected);
                assertEquals(HEX.formatHex(expected), HEX.formatHex(quantize(t, x, n, w)), type + " case " + c);
                checked++;
            }
        }
        assertTrue(checked >= 60, "10 types x 6 cases");
        assertTrue(nanBlocks >= 3, "the fixture's zero super-block gave ggml NaN scales in Q2_K, Q4_K and Q5_K");
    }

    /**
     * Where ggml writes NaN scales (a Q2_K/Q4_K/Q5_K super-block with all-zero importance: 0/0 in make_qp_quants),
     * Interlayer deliberately writes the unweighted rounding instead. Checks that ggml's bytes there really are NaN
     * (so the replacement is not hiding any other difference) and puts the unweighted bytes in their place.
     *
     * @return how many super-blocks were replaced
     */
    private static int replaceZeroImportanceSuperBlocks(DType t, float[] x, float[] w, byte[] ggml) {
        if (!Quantizer.zeroImportanceGivesNaN(t)) {
            return 0;
        }
        int bs = t.blockSize(), bb = t.blockBytes(), replaced = 0;
        for (int b = 0; b < x.length / bs; b++) {
            boolean zero = true;
            for (int j = b * bs; j < (b + 1) * bs; j++) {
                zero &= w[j % w.length] == 0;
            }
            if (!zero) {
                continue;
            }
            MemorySegment block = MemorySegment.ofArray(ggml).asSlice((long) b * bb, bb);
            assertEquals(0, BlockFormats.of(t).firstNonFiniteScale(block, 0, 1), t + " block " + b
                    + ": ggml's all-zero-importance super-block was expected to carry NaN scales");
            byte[] plain = new byte[bb];
            Quantizer.quantizeRow(t, x, b * bs, bs, MemorySegment.ofArray(plain), 0);
            System.arraycopy(plain, 0, ggml, b * bb, bb);
            replaced++;
        }
        return replaced;
    }

    /**
     * An all-ones importance is not the reference rounding (ggml's bytes for it, fixture case 2, differ from the
     * unweighted ones for every type but Q8_0): the weights keep sqrt(σ² + x²) and the searches differ.
     */
    @Test
    void allOnesImportanceIsNotTheReferenceRounding() throws Exception {
        JsonObject doc = GgufPyFixturesTest.load("ggml_imatrix_ref.json");
        int n = doc.get("n_per_row").getAsInt();
        float[] x = GgufPyFixturesTest.floats(doc.getAsJsonArray("inputs").get(2).getAsString());
        float[] w = GgufPyFixturesTest.floats(doc.getAsJsonArray("importance").get(2).getAsString());
        for (int j = 0; j < n; j++) {
            assertEquals(1f, w[j], "case 2 is the all-ones importance");
        }
        JsonObject bytes = doc.getAsJsonObject("bytes");
        for (DType t : Quantizer.TARGETS) {
            String ggml = bytes.getAsJsonArray(t.name()).get(2).getAsString();
            String plain = HEX.formatHex(quantize(t, x, n, null));
            if (t == DType.Q8_0) {
                assertEquals(ggml, plain);
            } else {
                assertNotEquals(ggml, plain, t.toString());
            }
        }
    }

    /** The weighted path is a different rounding: on plain Gaussian rows it changes bytes for every type but Q8_0. */
    @Test
    void importanceChangesEveryTypeButQ8_0() {
        int n = 512;
        float[] x = new float[n], w = new float[n];
        gaussianRow(3, x, w, rnd -> (float) Math.exp(2 * rnd.nextGaussian()));
        for (DType t : Quantizer.TARGETS) {
            byte[] plain = quantize(t, x, n, null), weighted = quantize(t, x, n, w);
            if (t == DType.Q8_0) {
                assertArrayEquals(plain, weighted, "ggml's quantize_q8_0 ignores the importance");
            } else {
                assertNotEquals(Arrays.toString(plain), Arrays.toString(weighted), t.toString());
            }
        }
    }

    /**
     * Rows are quantized independently (odd row counts give the same bytes row by row), and scaling the importance
     * by a power of two changes nothing: every search compares weighted sums, and the scale factor is exact.
     */
    @Test
    void rowsAreIndependentAndImportanceScaleFree() {
        Random rnd = new Random(5);
        int n = 256;
        for (int rows : new int[] {1, 3, 5}) {
            float[] x = new float[rows * n], w = new float[n], w4 = new float[n];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * (i % 7 == 0 ? 3 : 1));
            }
            for (int j = 0; j < n; j++) {
                w[j] = j % 11 == 0 ? 0 : (float) rnd.nextDouble();
                w4[j] = 4 * w[j];
            }
            for (DType t : Quantizer.TARGETS) {
                byte[] all = quantize(t, x, n, w);
                int rb = (int) t.byteSize(n);
                for (int r = 0; r < rows; r++) {
                    byte[] one = quantize(t, Arrays.copyOfRange(x, r * n, (r + 1) * n), n, w);
                    assertArrayEquals(one, Arrays.copyOfRange(all, r * rb, (r + 1) * rb), t + " row " + r);
                }
                assertArrayEquals(all, quantize(t, x, n, w4), t + ": importance x 4");
            }
        }
    }

    /**
     * Columns of zero importance: where ggml's search for a symmetric scale sees only zero weights (a Q4_0/Q5_0 block,
     * a Q3_K/Q6_K sub-block of 16) its least-squares scale is 0, so those values dequantize to exactly 0 — the
     * fixture's zero-importance case shows the same in ggml's bytes — while the other blocks are unaffected (they
     * equal a run with that block's importance set to anything). Affine types keep a min-max fit there (no assertion).
     */
    @Test
    void zeroImportanceBlocksOfSymmetricTypesDequantizeToZero() {
        int n = 512;
        float[] x = new float[n], w = new float[n];
        gaussianRow(9, x, w, rnd -> (float) rnd.nextDouble() + 0.1f);
        java.util.Arrays.fill(w, 32, 64, 0f);
        for (DType t : new DType[] {DType.Q4_0, DType.Q5_0, DType.Q3_K, DType.Q6_K}) {
            byte[] q = quantize(t, x, n, w);
            float[] back = new float[n];
            BlockFormats.of(t).dequantizeRow(MemorySegment.ofArray(q), 0, n, back, 0);
            int others = 0, nonZero = 0;
            for (int j = 0; j < n; j++) {
                if (j >= 32 && j < 64) {
                    assertEquals(0f, Math.abs(back[j]), t + " column " + j);
                } else {
                    others++;
                    nonZero += back[j] != 0 ? 1 : 0;
                }
            }
            assertTrue(nonZero > others * 3 / 4, t + ": the weighted columns are rounded, " + nonZero + " of " + others);
        }
    }

    @Test
    void badImportanceIsRefusedNamingTheColumn() {
        float[] x = new float[256];
        for (DType t : Quantizer.TARGETS) {
            for (float bad : new float[] {Float.NaN, -1f, Float.POSITIVE_INFINITY}) {
                float[] w = new float[256];
                Arrays.fill(w, 1);
                w[17] = bad;
                var e = assertThrows(IllegalArgumentException.class, () -> quantize(t, x, 256, w));
                assertTrue(e.getMessage().contains("importance[17]"), e.getMessage());
            }
            var e = assertThrows(IllegalArgumentException.class, () -> quantize(t, x, 256, new float[255]));
            assertTrue(e.getMessage().contains("255"), e.getMessage());
        }
    }

    /** x[j] standard Gaussian and w[j] from {@code importance}, drawn in that order per column with {@code seed}. */
    private static void gaussianRow(long seed, float[] x, float[] w,
                                    java.util.function.ToDoubleFunction<Random> importance) {
        Random rnd = new Random(seed);
        for (int j = 0; j < x.length; j++) {
            x[j] = (float) rnd.nextGaussian();
            w[j] = (float) importance.applyAsDouble(rnd);
        }
    }
}
