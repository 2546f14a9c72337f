package dev.interlayer.models.io;

import static dev.interlayer.models.io.GgufTestWriter.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF reader: every value type round-trips; every validation rule rejects a corrupt file with a clear message. */
class GgufTest {
    @TempDir
    Path tmp;

    /** A valid file with one value of every metadata type, nested arrays, alignment 64 and three tensors. */
    static GgufTestWriter sample() {
        GgufTestWriter w = new GgufTestWriter().header(3, 3, 18);
        w.kv("general.architecture", STRING, "test");
        w.kv("u8", UINT8, 200);
        w.kv("i8", INT8, 0xFB);
        w.kv("u16", UINT16, 60000);
        w.kv("i16", INT16, -300);
        w.kv("u32", UINT32, 4_000_000_000L);
        w.kv("i32", INT32, -7);
        w.kv("f32", FLOAT32, 1.5f);
        w.kv("bool", BOOL, true);
        w.kv("u64", UINT64, 1L << 40);
        w.kv("i64", INT64, -9);
        w.kv("f64", FLOAT64, 2.25);
        w.array("strings", STRING);
        w.mark("count:strings");
        w.u64(2);
        w.str("a");
        w.str("é▁");
        w.array("floats", FLOAT32);
        w.u64(3);
        w.f32(0.5f);
        w.f32(-1f);
        w.f32(3f);
        w.array("nested", ARRAY);
        w.u64(2);
        w.u32(INT32);
        w.u64(2);
        w.u32(1);
        w.u32(2);
        w.u32(INT32);
        w.u64(1);
        w.u32(3);
        w.array("bools", BOOL);
        w.u64(2);
        w.u8(0);
        w.mark("bools[1]");
        w.u8(1);
        w.array("u32s", UINT32);
        w.u64(1);
        w.u32(17);
        w.alignment(64);
        w.tensor("w32", 0, new long[] {3, 2}, GgufTestWriter.f32Bytes(1, 2, 3, 4, 5, 6));
        w.tensor("w16", 1, new long[] {4}, GgufTestWriter.f16Bytes(0.5f, -2f, 1024f, 0.1f));
        byte[] q8 = new byte[34];
        q8[1] = 0x3C;   // f16 scale 1.0
        w.tensor("q8", 8, new long[] {32, 1}, q8);
        return w;
    }

    private Path write(byte[] bytes) throws IOException {
        return Files.write(Files.createTempFile(tmp, "t", ".gguf"), bytes);
    }

    private ModelFormatException expectError(byte[] bytes, String... words) throws IOException {
        Path p = write(bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Gguf.open(p).close());
        for (String word : words) {
            assertTrue(e.getMessage().contains(word), "message '" + e.getMessage() + "' lacks '" + word + "'");
        }
        assertTrue(e.getMessage().startsWith(p.getFileName().toString()), e.getMessage());
        return e;
    }

    private static byte[] patch32(byte[] b, int at, long v) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) v);
        return c;
    }

    private static byte[] patch64(byte[] b, int at, long v) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        return c;
    }

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        try (GgufFile f = Gguf.open(write(sample().finish()))) {
            Map<String, Object> m = f.metadata();
            assertEquals(3, f.version());
            assertEquals("test", f.architecture());
            assertEquals(200, m.get("u8"));
            assertEquals(-5, m.get("i8"));
            assertEquals(60000, m.get("u16"));
            assertEquals(-300, m.get("i16"));
            assertEquals(4_000_000_000L, m.get("u32"));
            assertEquals(-7, m.get("i32"));
            assertEquals(1.5f, m.get("f32"));
            assertEquals(true, m.get("bool"));
            assertEquals(1L << 40, m.get("u64"));
            assertEquals(-9L, m.get("i64"));
            assertEquals(2.25, m.get("f64"));
            assertArrayEquals(new String[] {"a", "é▁"}, f.getArray("strings", String[].class));
            assertArrayEquals(new float[] {0.5f, -1f, 3f}, f.getArray("floats", float[].class));
            List<?> nested = (List<?>) m.get("nested");
            assertArrayEquals(new int[] {1, 2}, (int[]) nested.get(0));
            assertArrayEquals(new int[] {3}, (int[]) nested.get(1));
            assertArrayEquals(new boolean[] {false, true}, (boolean[]) m.get("bools"));
            assertArrayEquals(new int[] {17}, f.getArray("u32s", int[].class));
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataOffset() % 64);
            assertEquals(-7, f.getInt("i32", 0));
            assertEquals(42, f.getInt("absent", 42));
            assertThrows(IllegalArgumentException.class, () -> f.getInt("u32", 0));   // 4e9 does not fit an int
            assertThrows(IllegalArgumentException.class, () -> f.getString("u8"));

            Tensor w32 = f.tensor("w32");
            assertEquals(Shape.of(2, 3), w32.shape());   // GGUF ne [3, 2] is innermost-first
            assertEquals(DType.F32, w32.dtype());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w32.toFloatArray());
            assertEquals(6f, w32.getFloat(1, 2));
            assertTrue(w32.isReadOnly());
            Tensor w16 = f.tensor("w16");
            assertEquals(DType.F16, w16.dtype());
            // 0.1 is not exact in f16: compare with the f16 rounding of 0.1
            assertArrayEquals(new float[] {0.5f, -2f, 1024f, Float.float16ToFloat(Float.floatToFloat16(0.1f))},
                    w16.toFloatArray());

            Tensor q8 = f.tensor("q8");                 // block-quantized: a Q8_0 tensor over the mapped bytes
            assertEquals(DType.Q8_0, q8.dtype());
            assertEquals(Shape.of(1, 32), q8.shape());
            assertEquals(34, f.rawData("q8").byteSize());
            assertEquals(GgufType.Q8_0, f.info("q8").type());
            assertEquals(DType.Q8_0, f.dtype("q8"));
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> f.tensor("w33"));
            assertTrue(missing.getMessage().contains("w32"), missing.getMessage());
            f.close();
            assertThrows(IllegalStateException.class, () -> w32.getFloat(0, 0));
        }
    }

    /**
     * An untied quantized embedding ({@code token_embd.weight} beside {@code output.weight}) has its pages dropped from
     * the process after the scale check (GgufFile.tensor); reading it afterwards must give the stored values: every
     * row of a table spanning many pages, read after the drop, equals its codes times its scale.
     */
    @Test
    void untiedQuantizedEmbeddingReadsBackAfterItsPagesAreDropped() throws IOException {
        int rows = 600, blocks = 4;                      // 600 rows x 4 blocks x 34 bytes = 81,600 bytes, 20 pages
        byte[] q = new byte[rows * blocks * 34];
        for (int b = 0; b < rows * blocks; b++) {
            short d = Float.floatToFloat16(0.25f * (1 + b % 7));
            q[34 * b] = (byte) d;
            q[34 * b + 1] = (byte) (d >> 8);
            for (int i = 0; i < 32; i++) {
                q[34 * b + 2 + i] = (byte) ((b * 31 + i * 7) % 255 - 127);
            }
        }
        GgufTestWriter w = new GgufTestWriter().header(3, 2, 2);
        w.kv("general.architecture", STRING, "test");
        w.alignment(64);
        w.tensor("token_embd.weight", 8, new long[] {32L * blocks, rows}, q);
        w.tensor("output.weight", 0, new long[] {1}, GgufTestWriter.f32Bytes(1));
        try (GgufFile f = Gguf.open(write(w.finish()))) {
            int[] ids = new int[rows];
            for (int i = 0; i < rows; i++) {
                ids[i] = rows - 1 - i;                   // every row, last first
            }
            float[] out = new float[rows * 32 * blocks], all = new float[out.length];
            dev.interlayer.tensor.quant.QuantEmbedding.lookup(f.tensor("token_embd.weight"), ids,
                    Tensor.wrap(out, Shape.of(rows, 32 * blocks)));
            for (int i = 0; i < rows; i++) {
                System.arraycopy(out, i * 32 * blocks, all, ids[i] * 32 * blocks, 32 * blocks);
            }
            for (int b = 0; b < rows * blocks; b++) {
                for (int i = 0; i < 32; i++) {
                    // exact: an int8 code times a power-of-two multiple of 0.25 in f32
                    assertEquals(0.25f * (1 + b % 7) * (byte) ((b * 31 + i * 7) % 255 - 127), all[32 * b + i],
                            "block " + b + " element " + i);
                }
            }
        }
    }

    @Test
    void truncationAtEveryByteIsRejected() throws IOException {
        byte[] full = sample().finish();
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            Path p = write(cut);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Gguf.open(p).close(),
                    "truncated to " + len + " bytes");
            String msg = e.getMessage();
            assertTrue(msg.contains("bytes") || msg.contains("file size"), "len " + len + ": " + msg);
            Files.delete(p);
        }
    }

    @Test
    void ggufTypeGeometryAgreesWithItsDType() {
        // GgufType restates block size and bytes for every ggml id; where it maps to a DType the two
        // tables must agree, or the header's byte-size check and Tensor.of would disagree on a tensor's size.
        for (GgufType t : GgufType.values()) {
            if (t.dtype() != null) {
                assertEquals(t.dtype().blockSize(), t.blockSize(), t + " block size");
                assertEquals(t.dtype().blockBytes(), t.blockBytes(), t + " block bytes");
                assertEquals(t.name(), t.dtype().name(), t + " maps to a differently named dtype");
            }
        }
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = sample().finish();
        b[3] = 'X';
        expectError(b, "magic", "GGUF");
    }

    @Test
    void unsupportedVersions() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        int at = w.at.get("version");
        expectError(patch32(b, at, 1), "version", "2 or 3", "v1");
        expectError(patch32(b, at, 4), "version", "found 4");
        expectError(patch32(b, at, 0x03000000), "version", "big-endian");
    }

    @Test
    void lyingCounts() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        expectError(patch64(b, w.at.get("kv_count"), 1L << 40), "metadata count", "bytes left");
        expectError(patch64(b, w.at.get("tensor_count"), 1L << 40), "tensor count", "bytes left");
        expectError(patch64(b, w.at.get("kv_count"), -1L), "metadata count", "2^63");
        expectError(patch64(b, w.at.get("count:strings"), 1L << 50), "'strings' count", "bytes left");
    }

    @Test
    void tensorCountOneTooHighIsRejected() throws IOException {
        // sample() has 3 tensors; a fourth info is read from the alignment padding: an empty name
        GgufTestWriter w = sample();
        expectError(patch64(w.finish(), w.at.get("tensor_count"), 4), "tensor #3 name", "non-empty");
    }

    @Test
    void lyingStringLength() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        expectError(patch64(b, w.at.get("key:u8"), Long.MAX_VALUE), "length", "bytes left in file");
        expectError(patch64(b, w.at.get("tensor:w16"), 1L << 33), "tensor #1 name length", "bytes left");
    }

    @Test
    void unknownValueTypes() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        expectError(patch32(b, w.at.get("type:u8"), 13), "metadata 'u8' type", "0..12", "13");
        expectError(patch32(b, w.at.get("ttype:w32"), 99), "tensor 'w32' type", "known ggml type", "99");
        expectError(patch32(b, w.at.get("value:bools") - 0, 42), "'bools' element type", "42");
    }

    @Test
    void badBoolAndDeepNesting() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        b[w.at.get("bools[1]")] = 2;
        expectError(b, "'bools'", "bool 0 or 1", "2");

        GgufTestWriter deep = new GgufTestWriter().header(3, 0, 1);
        deep.key("deep", ARRAY);
        for (int i = 0; i < 20; i++) {
            deep.u32(ARRAY);
            deep.u64(1);
        }
        deep.u32(INT32);
        deep.u64(0);
        expectError(deep.finish(), "nested");
    }

    @Test
    void duplicateKeysAndNames() throws IOException {
        GgufTestWriter w = new GgufTestWriter().header(3, 0, 2);
        w.kv("a", INT32, 1);
        w.kv("a", INT32, 2);
        expectError(w.finish(), "duplicate key 'a'");

        GgufTestWriter t = new GgufTestWriter().header(3, 2, 0);
        t.tensor("x", 0, new long[] {1}, GgufTestWriter.f32Bytes(1));
        t.tensor("x", 0, new long[] {1}, GgufTestWriter.f32Bytes(2));
        expectError(t.finish(), "tensor 'x' name", "duplicate");
    }

    @Test
    void nonUtf8Names() throws IOException {
        GgufTestWriter t = new GgufTestWriter().header(3, 1, 0);
        t.mark("name");
        t.str(new byte[] {'a', (byte) 0xC3, 'b'});   // 0xC3 starts a 2-byte sequence; 'b' is not a continuation
        t.u32(1);
        t.u64(1);
        t.u32(0);
        t.u64(0);
        byte[] b = t.finish();
        b = Arrays.copyOf(b, b.length + 4);
        expectError(b, "tensor #0 name", "UTF-8", "61c362");
    }

    @Test
    void badDims() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        expectError(patch32(b, w.at.get("ndims:w16"), 5), "tensor 'w16' n_dims", "1..4", "5");
        expectError(patch64(b, w.at.get("ne0:w32"), 1L << 40), "tensor 'w32' ne[0]", "2147483647");
        // ne[0] not a whole number of Q8_0 blocks
        expectError(patch64(b, w.at.get("ne0:q8"), 33), "tensor 'q8' ne[0]", "block size 32", "33");

        GgufTestWriter o = new GgufTestWriter().header(3, 1, 0);
        o.tensor("big", 0, new long[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, new byte[0]);
        expectError(o.finish(), "tensor 'big' dims", "overflow");
    }

    @Test
    void badOffsets() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        int off = w.at.get("offset:w16");
        long orig = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off);
        expectError(patch64(b, off, orig + 4), "tensor 'w16' offset", "alignment 64");
        ModelFormatException e = expectError(patch64(b, off, 1L << 20), "tensor 'w16' data", "file size");
        assertEquals(off, e.offset());
        expectError(patch64(b, off, Long.MAX_VALUE - 63), "tensor 'w16' data", "overflow");
    }

    @Test
    void badAlignment() throws IOException {
        GgufTestWriter w = sample();
        byte[] b = w.finish();
        expectError(patch32(b, w.at.get("value:general.alignment"), 48), "general.alignment", "power of two");
        expectError(patch32(b, w.at.get("value:general.alignment"), 0), "general.alignment", "power of two");
    }

    // ---- real files ----

    @Test
    void stories260KParses() throws IOException {
        try (GgufFile f = Gguf.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            assertEquals("llama", f.architecture());
            assertEquals(64, f.getInt("llama.embedding_length", -1));
            assertEquals(5, f.getInt("llama.block_count", -1));
            assertEquals(8, f.getInt("llama.attention.head_count", -1));
            assertEquals(4, f.getInt("llama.attention.head_count_kv", -1));
            assertEquals(172, f.getInt("llama.feed_forward_length", -1));
            assertEquals(512, f.getArray("tokenizer.ggml.tokens", String[].class).length);
            assertEquals(512, f.getArray("tokenizer.ggml.scores", float[].class).length);
            Tensor emb = f.tensor("token_embd.weight");
            assertEquals(Shape.of(512, 64), emb.shape());
            assertEquals(Shape.of(64, 172), f.tensor("blk.0.ffn_down.weight").shape());
            long params = f.tensorInfos().stream().mapToLong(GgufTensorInfo::elements).sum();
            assertEquals(292_800, params);   // PROVENANCE.md
            assertTrue(f.tensorInfos().stream().allMatch(i -> i.type() == GgufType.F32));
            for (String n : f.names()) {
                float[] v = f.tensor(n).toFloatArray();
                for (float x : v) {
                    assertTrue(Float.isFinite(x), n);
                }
            }
        }
    }

    @Test
    void stories260KTruncatedAtHeaderBoundaries() throws IOException {
        byte[] full = Files.readAllBytes(SharedModels.require("stories260K/stories260K.gguf"));
        long dataOffset;
        try (GgufFile f = Gguf.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            dataOffset = f.dataOffset();
        }
        int[] cuts = {0, 2, 4, 6, 8, 12, 16, 20, 24, 28, 31, 32, 40, 1000, (int) dataOffset - 1, (int) dataOffset,
                (int) dataOffset + 1, full.length / 2, full.length - 1};
        for (int cut : cuts) {
            expectError(Arrays.copyOf(full, cut));
        }
    }

    @Test
    void f16ModelParses() throws IOException {
        try (GgufFile f = Gguf.open(SharedModels.require("llama-2-tiny-random/llama-2-tiny-random.gguf"))) {
            Tensor emb = f.tensor("token_embd.weight");
            assertEquals(DType.F16, emb.dtype());
            assertEquals(Shape.of(32000, 8), emb.shape());
            assertEquals(32000, f.getArray("tokenizer.ggml.tokens", String[].class).length);
            long params = f.tensorInfos().stream().mapToLong(GgufTensorInfo::elements).sum();
            assertEquals(513_048, params);   // PROVENANCE.md
        }
    }

    @Test
    void allVocabFilesParse() throws IOException {
        Path dir = SharedModels.root().resolve("tokenizers");
        try (var files = Files.list(dir)) {
            List<Path> ggufs = files.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
            assertEquals(10, ggufs.size(), "PROVENANCE.md lists ten vocab files");
            for (Path p : ggufs) {
                try (GgufFile f = Gguf.open(p)) {
                    String[] tokens = f.getArray("tokenizer.ggml.tokens", String[].class);
                    assertTrue(tokens.length > 1000, p + " has " + tokens.length + " tokens");
                    assertEquals(0, f.names().size());
                    assertTrue(f.getString("tokenizer.ggml.model") != null, p.toString());
                }
            }
        }
    }
}
