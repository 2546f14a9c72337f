package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.models.io.GgufWriter;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.Gptq;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.quant.BlockFormats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Packing quantizer output into GGML blocks is lossless: a GGUF tensor written from a {@link QuantizedLinear} and
 * decoded by the loader's block decoders (themselves checked against llama.cpp's in the io tests) equals the
 * quantizer's own {@link QuantizedLinear#dequantize()} bit for bit. Exact equality is by design, not luck: the
 * schemes round scales (and Q4_1/Q5_1 offsets) to fp16 before any code is chosen, every product d·q is exact in
 * float32, and the offset grids' one addition is rounded in float32 on both paths.
 */
class GgmlBlocksTest {
    @TempDir
    Path dir;

    @Test
    void packedBlocksDecodeToTheQuantizersDequantizedWeights() throws IOException {
        var r = new SplittableRandom(13);
        int rows = 5, cols = 96;
        for (int bits : new int[] {4, 5, 8}) {
            for (boolean sym : new boolean[] {false, true}) {
                if (bits == 8 && !sym) {
                    continue;
                }
                QuantScheme s = GgmlBlocks.scheme(bits, 32, sym, ClipSearch.MSE);
                for (int t = 0; t < 4; t++) {
                    float[] w = weights(r, rows, cols);
                    QuantizedLinear rtn = Rtn.quantize(w, rows, cols, s);
                    QuantizedLinear gptq = Gptq.quantize(w, rows, cols, spd(r, cols), s, GptqOptions.DEFAULT
                            .withActOrder(t % 2 == 1).withStaticGroups(t % 2 == 1)).weights();
                    for (QuantizedLinear q : new QuantizedLinear[] {rtn, gptq}) {
                        float[] decoded = roundTrip(q, "w");
                        assertArrayEquals(q.dequantize(), decoded, s + " try " + t);
                    }
                }
            }
        }
    }

    @Test
    void typesFollowBitsAndSymmetry() {
        assertEquals(GgufType.Q4_1, GgmlBlocks.typeOf(GgmlBlocks.scheme(4, 32, false, ClipSearch.NONE)));
        assertEquals(GgufType.Q4_0, GgmlBlocks.typeOf(GgmlBlocks.scheme(4, 32, true, ClipSearch.NONE)));
        assertEquals(GgufType.Q5_1, GgmlBlocks.typeOf(GgmlBlocks.scheme(5, 32, false, ClipSearch.NONE)));
        assertEquals(GgufType.Q5_0, GgmlBlocks.typeOf(GgmlBlocks.scheme(5, 32, true, ClipSearch.NONE)));
        assertEquals(GgufType.Q8_0, GgmlBlocks.typeOf(GgmlBlocks.scheme(8, 32, false, ClipSearch.NONE)));
    }

    @Test
    void unsupportedCombinationsAreRejectedNamingTheSupportedOnes() {
        for (int[] bg : new int[][] {{3, 32}, {4, 128}, {4, 0}, {6, 32}, {2, 64}}) {
            var e = assertThrows(IllegalArgumentException.class, () -> GgmlBlocks.scheme(bg[0], bg[1], false, ClipSearch.NONE));
            assertTrue(e.getMessage().contains("supported") && e.getMessage().contains("Q4_1"), e.getMessage());
        }
        QuantizedLinear odd = Rtn.quantize(new float[2 * 48], 2, 48, GgmlBlocks.scheme(4, 32, false, ClipSearch.NONE));
        var e = assertThrows(IllegalArgumentException.class, () -> GgmlBlocks.pack(odd));
        assertTrue(e.getMessage().contains("48 columns"), e.getMessage());
        QuantizedLinear f32 = Rtn.quantize(new float[64], 2, 32, QuantScheme.of(dev.interlayer.quant.GridKind.ASYM_ZERO, 4, 32));
        assertThrows(IllegalArgumentException.class, () -> GgmlBlocks.pack(f32));
    }

    private float[] roundTrip(QuantizedLinear q, String name) throws IOException {
        byte[] b = GgmlBlocks.pack(q);
        Path p = dir.resolve("t.gguf");
        new GgufWriter().putString("general.architecture", "none")
                .addTensor(name, GgmlBlocks.typeOf(q.scheme()), Shape.of(q.rows(), q.cols()), ch -> {
                    ByteBuffer bb = ByteBuffer.wrap(b);
                    while (bb.hasRemaining()) {
                        ch.write(bb);
                    }
                }).write(p, x -> { });
        try (GgufFile f = Gguf.open(p)) {
            return decode(f, name);
        }
    }

    /** A quantized 2-D tensor of {@code f} decoded row by row by the loader's block codec. */
    static float[] decode(GgufFile f, String name) {
        var info = f.info(name);
        int rows = info.shape().dim(0), cols = info.shape().dim(1);
        var fmt = BlockFormats.of(info.type().dtype());
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            fmt.dequantizeRow(f.rawData(name), r * fmt.rowBytes(cols), cols, out, r * cols);
        }
        return out;
    }

    // rows with different magnitudes, an outlier per row, some exact zeros
    static float[] weights(SplittableRandom r, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            double scale = Math.pow(10, -3 + (i / cols) % 4);
            w[i] = (float) (r.nextGaussian() * scale + (r.nextInt(7) == 0 ? 0.5 * scale : 0));
        }
        for (int row = 0; row < rows; row++) {
            w[row * cols + r.nextInt(cols)] *= 8;
            w[row * cols + r.nextInt(cols)] = 0;
        }
        return w;
    }

    // H = 2XᵀX/N of random correlated inputs
    static double[] spd(SplittableRandom r, int d) {
        int n = 4 * d;
        double[] x = new double[n * d];
        for (int t = 0; t < n; t++) {
            double common = r.nextGaussian();
            for (int j = 0; j < d; j++) {
                x[t * d + j] = r.nextGaussian() + 0.5 * common;
            }
        }
        double[] h = new double[d * d];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    h[i * d + j] += 2 * x[t * d + i] * x[t * d + j] / n;
                }
            }
        }
        return h;
    }
}
