package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.BlockFormats;
import dev.interlayer.tensor.quant.Quantizer;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GgufWriter} round trips through the independent reader ({@link Gguf#open}, itself tested against
 * hand-built files in {@link GgufTest}), quantized tensors load as block dtypes and multiply, and bad
 * quantized files fail with messages naming file, tensor, type and byte offset.
 */
class GgufWriterTest {
    @TempDir
    Path tmp;

    static byte[] quantize(DType t, float[] x) {
        byte[] b = new byte[(int) t.byteSize(x.length)];
        Quantizer.quantizeRow(t, x, 0, x.length, MemorySegment.ofArray(b), 0);
        return b;
    }

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    static GgufWriter.TensorData bytes(byte[] b) {
        return out -> GgufWriter.writeFully(out, ByteBuffer.wrap(b));
    }

    @Test
    void writtenFileReadsBackWithTypesShapesMetadataAndBytes() throws Exception {
        float[] w = gaussian(3 * 256, 1), norm = gaussian(256, 2);
        byte[] q4k = quantize(DType.Q4_K, w), q8 = quantize(DType.Q8_0, w);
        byte[] f32 = new byte[norm.length * 4];
        ByteBuffer.wrap(f32).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(norm);
        Path p = tmp.resolve("out.gguf");
        GgufWriter gw = new GgufWriter().putString("general.architecture", "llama").putU32("general.file_type", 15)
                .putF32("llama.rope.freq_base", 10000f)
                .addTensor("blk.0.ffn_down.weight", GgufType.Q4_K, Shape.of(3, 256), bytes(q4k))
                .addTensor("output_norm.weight", GgufType.F32, Shape.of(256), bytes(f32))
                .addTensor("token_embd.weight", GgufType.Q8_0, Shape.of(3, 256), bytes(q8));
        long[] progress = {0};
        gw.write(p, done -> progress[0] = done);
        assertEquals(q4k.length + f32.length + q8.length, progress[0]);
        try (GgufFile f = Gguf.open(p)) {
            assertEquals(3, f.version());
            assertEquals("llama", f.architecture());
            assertEquals(15L, f.metadata().get("general.file_type"));
            assertEquals(10000f, f.metadata().get("llama.rope.freq_base"));
            Tensor t = f.tensor("blk.0.ffn_down.weight");
            assertEquals(DType.Q4_K, t.dtype());
            assertEquals(Shape.of(3, 256), t.shape());
            assertArrayEquals(q4k, f.rawData("blk.0.ffn_down.weight").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertArrayEquals(norm, f.tensor("output_norm.weight").toFloatArray());
            assertEquals(0, (f.info("token_embd.weight").fileOffset() - f.dataOffset()) % 32);
            // a quantized weight multiplies through Ops.matmulT like an F32 one
            Tensor x = Tensor.wrap(gaussian(256, 3), Shape.of(1, 256));
            Tensor y = Ops.matmulT(x, t, Tensor.zeros(1, 3));
            float[] row = new float[256];
            for (int j = 0; j < 3; j++) {
                BlockFormats.of(DType.Q4_K).dequantizeRow(MemorySegment.ofArray(q4k), j * 144L, 256, row, 0);
                double want = 0, mag = 0;
                for (int i = 0; i < 256; i++) {
                    want += row[i] * (double) x.getFloat(0, i);
                    mag += Math.abs(row[i] * (double) x.getFloat(0, i));
                }
                assertEquals(want, y.getFloat(0, j), 1e-5 * mag);   // reordered float sums over 256 terms
            }
            // metadata copies keep their GGUF types byte for byte
            GgufWriter copy = new GgufWriter();
            for (String k : f.metadata().keySet()) {
                copy.putRaw(k, f.rawMetadataValue(k));
            }
            Path p2 = tmp.resolve("copy.gguf");
            copy.write(p2, d -> { });
            try (GgufFile g = Gguf.open(p2)) {
                assertEquals(f.metadata().keySet(), g.metadata().keySet());
                for (String k : f.metadata().keySet()) {
                    assertArrayEquals(f.rawMetadataValue(k), g.rawMetadataValue(k), k);
                }
            }
        }
    }

    @Test
    void nanScaleIsReportedWithFileTensorTypeAndOffset() throws Exception {
        byte[] q8 = quantize(DType.Q8_0, gaussian(64, 4));
        q8[34] = 0x00;
        q8[35] = 0x7E;                                  // block 1's f16 scale := NaN
        Path p = tmp.resolve("nan.gguf");
        new GgufWriter().addTensor("w", GgufType.Q8_0, Shape.of(1, 64), bytes(q8)).write(p, d -> { });
        try (GgufFile f = Gguf.open(p)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> f.tensor("w"));
            ModelFormatException m = (ModelFormatException) e.getCause();
            long at = f.info("w").fileOffset() + 34;
            assertEquals(at, m.offset());
            assertTrue(m.getMessage().contains("nan.gguf") && m.getMessage().contains("'w'")
                    && m.getMessage().contains("Q8_0") && m.getMessage().contains("byte " + at), m.getMessage());
        }
    }

    @Test
    void overlappingTensorsAreRejected() throws Exception {
        // write two Q8_0 tensors, then shrink the first one's declared data by lying about the second's offset
        byte[] a = quantize(DType.Q8_0, gaussian(64, 5)), b = quantize(DType.Q8_0, gaussian(32, 6));
        Path p = tmp.resolve("overlap.gguf");
        new GgufWriter().addTensor("a", GgufType.Q8_0, Shape.of(1, 64), bytes(a))
                .addTensor("b", GgufType.Q8_0, Shape.of(1, 32), bytes(b)).write(p, d -> { });
        byte[] file = Files.readAllBytes(p);
        // b's offset field is the last u64 of the tensor table: 96 (68 bytes of a, aligned) -> 64
        int bOffsetField = indexOfLast(file, new byte[] {96, 0, 0, 0, 0, 0, 0, 0});
        file[bOffsetField] = 64;
        Files.write(p, file);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Gguf.open(p));
        assertTrue(e.getMessage().contains("tensor 'a'") && e.getMessage().contains("Q8_0")
                && e.getMessage().contains("'b'") && e.getMessage().contains("disagrees"), e.getMessage());
    }

    private static int indexOfLast(byte[] hay, byte[] needle) {
        for (int i = hay.length - needle.length; i >= 0; i--) {
            boolean ok = true;
            for (int j = 0; j < needle.length && ok; j++) {
                ok = hay[i + j] == needle[j];
            }
            if (ok && i < 400) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void writerRejectsPartialBlocksAndShortData() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class,
                () -> w.addTensor("x", GgufType.Q4_K, Shape.of(2, 128), bytes(new byte[0])));
        w.addTensor("y", GgufType.Q8_0, Shape.of(1, 32), bytes(new byte[33]));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> w.write(tmp.resolve("s.gguf"), d -> { }));
        assertTrue(e.getMessage().contains("'y'") && e.getMessage().contains("34"), e.getMessage());
    }
}
