package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.quant.Quantizer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GgufQuantize} on a synthetic 8-layer F32 model whose rows are 256 wide (K-quants apply) except
 * one 96-wide tensor (falls back): per-tensor types of each preset against the rules in
 * {@link QuantPreset}, tensor bytes equal to {@link Quantizer} on the same rows (itself checked against
 * ggml's C quantizers), metadata copied with its GGUF types, and the bits-per-weight accounting.
 */
class GgufQuantizeTest {
    @TempDir
    Path tmp;

    private Path model(Map<String, float[]> weights) throws Exception {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putU32("llama.block_count", 8)
                .putU32("general.file_type", 0);
        for (int l = 0; l < 8; l++) {
            add(w, weights, "blk." + l + ".attn_v.weight", Shape.of(2, 256), 100 + l);
            add(w, weights, "blk." + l + ".ffn_down.weight", Shape.of(2, 256), 200 + l);
            add(w, weights, "blk." + l + ".attn_q.weight", Shape.of(1, 256), 300 + l);
            add(w, weights, "blk." + l + ".attn_norm.weight", Shape.of(256), 400 + l);
        }
        add(w, weights, "output.weight", Shape.of(3, 256), 500);
        add(w, weights, "token_embd.weight", Shape.of(3, 256), 501);
        add(w, weights, "odd.weight", Shape.of(2, 96), 502);
        Path p = tmp.resolve("f32.gguf");
        w.write(p, d -> { });
        return p;
    }

    // model() quantized with `preset` into tmp/name, without progress output
    private Path quantized(String name, QuantPreset preset, boolean pure) throws Exception {
        Path in = model(new LinkedHashMap<>()), out = tmp.resolve(name);
        try (GgufFile f = Gguf.open(in)) {
            GgufQuantize.quantize(f, out, preset, pure, GgufQuantize.SILENT);
        }
        return out;
    }

    private static void add(GgufWriter w, Map<String, float[]> weights, String name, Shape s, long seed) {
        float[] x = GgufWriterTest.gaussian((int) s.size(), seed);
        weights.put(name, x);
        byte[] b = new byte[x.length * 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(x);
        w.addTensor(name, GgufType.F32, s, GgufWriterTest.bytes(b));
    }

    @Test
    void q4KmMixAndBytes() throws Exception {
        Map<String, float[]> weights = new LinkedHashMap<>();
        Path in = model(weights), out = tmp.resolve("q4km.gguf");
        GgufQuantize.Summary s;
        try (GgufFile f = Gguf.open(in)) {
            s = GgufQuantize.quantize(f, out, QuantPreset.Q4_K_M, false, GgufQuantize.SILENT);
        }
        try (GgufFile q = Gguf.open(out)) {
            assertEquals(15L, q.metadata().get("general.file_type"));
            assertEquals(2L, q.metadata().get("general.quantization_version"));
            assertEquals(8L, q.metadata().get("llama.block_count"));        // uint32 stays uint32
            for (int l = 0; l < 8; l++) {
                // use_more_bits for 8 layers: l < 1, l >= 7, (l - 1) % 3 == 2 -> layers 0, 3, 6, 7
                GgufType more = l == 0 || l == 3 || l == 6 || l == 7 ? GgufType.Q6_K : GgufType.Q4_K;
                assertEquals(more, q.info("blk." + l + ".attn_v.weight").type(), "attn_v layer " + l);
                assertEquals(more, q.info("blk." + l + ".ffn_down.weight").type(), "ffn_down layer " + l);
                assertEquals(GgufType.Q4_K, q.info("blk." + l + ".attn_q.weight").type());
                assertEquals(GgufType.F32, q.info("blk." + l + ".attn_norm.weight").type());
            }
            assertEquals(GgufType.Q6_K, q.info("output.weight").type());
            assertEquals(GgufType.Q4_K, q.info("token_embd.weight").type());
            assertEquals(GgufType.Q5_0, q.info("odd.weight").type());       // 96 % 256 != 0 -> Q5_0
            for (String name : weights.keySet()) {
                GgufTensorInfo i = q.info(name);
                byte[] got = q.rawData(name).toArray(ValueLayout.JAVA_BYTE);
                if (i.type().isQuantized()) {
                    byte[] want = new byte[got.length];
                    int row = i.shape().dim(-1);
                    long rowBytes = i.type().dtype().byteSize(row);
                    for (int r = 0; r < i.elements() / row; r++) {
                        Quantizer.quantizeRow(i.type().dtype(), weights.get(name), r * row, row,
                                MemorySegment.ofArray(want), r * rowBytes);
                    }
                    assertArrayEquals(want, got, name);
                } else {
                    float[] f = new float[got.length / 4];
                    ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
                    assertArrayEquals(weights.get(name), f, name);
                }
            }
        }
        long quantized = 0, all = 0, qBytes = 0;
        try (GgufFile q = Gguf.open(out)) {
            for (GgufTensorInfo i : q.tensorInfos()) {
                all += i.elements();
                if (i.type().isQuantized()) {
                    quantized += i.elements();
                    qBytes += i.byteSize();
                }
            }
        }
        assertEquals(all, s.parameters());
        assertEquals(quantized, s.quantizedParameters());
        assertEquals(8.0 * qBytes / quantized, s.quantizedBpw(), 1e-12);
        assertTrue(s.quantizedBpw() > 4.5 && s.quantizedBpw() < 6.5625, "between Q4_K and Q6_K: " + s.quantizedBpw());
    }

    @Test
    void layerIndicesSortNumericallyAndAnIndexBeyondIntIsNotALayer() {
        // blk.10 after blk.2 (numeric, as llama.cpp compares), and a name whose index overflows int sorts with
        // the non-layer tensors instead of throwing from inside the comparator
        List<String> names = new ArrayList<>(List.of("blk.10.attn_q.weight", "blk.2.attn_q.weight",
                "blk.99999999999.attn_q.weight", "token_embd.weight"));
        names.sort(java.util.Comparator.comparingInt(QuantPreset::layerOf).thenComparing(n -> n));
        assertEquals(List.of("blk.99999999999.attn_q.weight", "token_embd.weight", "blk.2.attn_q.weight",
                "blk.10.attn_q.weight"), names);
    }

    /**
     * llama-quantize's {@code quantize.imatrix.*} keys follow {@code general.file_type} in its order and types
     * (strings, int32); an input value of a key written is replaced and moved there ({@code gguf_set_val_*} removes
     * and appends), one not written stays where it was; strings are C strings cut at 127 bytes and at a NUL, a cut
     * inside a UTF-8 sequence (llama.cpp's, a string that readers checking UTF-8 refuse) moved back to the character; a chunk count of 0 or less and a null data set are not written.
     */
    @Test
    void imatrixProvenanceFollowsTheFileTypeInLlamaQuantizesOrderAndTypes() throws Exception {
        GgufWriter w = new GgufWriter().putString("quantize.imatrix.file", "old").putString("general.architecture",
                "llama").putU32("llama.block_count", 1).putString("quantize.imatrix.dataset", "kept");
        add(w, new LinkedHashMap<>(), "blk.0.attn_q.weight", Shape.of(2, 256), 1);
        Path in = tmp.resolve("prov.gguf"), out = tmp.resolve("prov-q.gguf");
        w.write(in, d -> { });
        byte[] name = "é".repeat(70).getBytes(java.nio.charset.StandardCharsets.UTF_8);     // 140 bytes
        try (GgufFile f = Gguf.open(in)) {
            GgufQuantize.quantize(f, out, QuantPreset.Q8_0, false, null,
                    new GgufQuantize.Provenance("é".repeat(70), null, 3, 0), GgufQuantize.SILENT);
        }
        try (GgufFile q = Gguf.open(out)) {
            assertEquals(List.of("general.architecture", "llama.block_count", "quantize.imatrix.dataset",
                    "general.quantization_version", "general.file_type", "quantize.imatrix.file",
                    "quantize.imatrix.entries_count"), new ArrayList<>(q.metadata().keySet()));
            ByteBuffer file = raw(q, "quantize.imatrix.file");
            assertEquals(Gguf.T_STRING, file.getInt());
            assertEquals(126, file.getLong());
            byte[] got = new byte[126];
            file.get(got);
            assertArrayEquals(java.util.Arrays.copyOf(name, 126), got);
            assertEquals("é".repeat(63), q.getString("quantize.imatrix.file"));
            ByteBuffer entries = raw(q, "quantize.imatrix.entries_count");
            assertEquals(Gguf.T_INT32, entries.getInt());
            assertEquals(3, entries.getInt());
            assertEquals("kept", q.getString("quantize.imatrix.dataset"));
        }
        try (GgufFile f = Gguf.open(in)) {
            GgufQuantize.quantize(f, out, QuantPreset.Q8_0, false, null,
                    new GgufQuantize.Provenance("a".repeat(130), "ab\0cd", 2, 7), GgufQuantize.SILENT);
        }
        try (GgufFile q = Gguf.open(out)) {
            List<String> keys = new ArrayList<>(q.metadata().keySet());
            assertEquals(List.of("general.file_type", "quantize.imatrix.file", "quantize.imatrix.dataset",
                    "quantize.imatrix.entries_count", "quantize.imatrix.chunks_count"), keys.subList(3, 8));
            assertEquals("a".repeat(127), q.getString("quantize.imatrix.file"));
            assertEquals("ab", q.getString("quantize.imatrix.dataset"));
            ByteBuffer chunks = raw(q, "quantize.imatrix.chunks_count");
            assertEquals(Gguf.T_INT32, chunks.getInt());
            assertEquals(7, chunks.getInt());
        }
    }

    private static ByteBuffer raw(GgufFile f, String key) throws Exception {
        return ByteBuffer.wrap(f.rawMetadataValue(key)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void tensorsAreWrittenInLlamaQuantizesOrder() throws Exception {
        Path out = quantized("order.gguf", QuantPreset.Q8_0, false);
        try (GgufFile q = Gguf.open(out)) {
            List<String> names = q.tensorInfos().stream().map(GgufTensorInfo::name).toList();
            List<String> want = new ArrayList<>(names);
            // llama.cpp's weight_name_comparer: non-layer tensors first, then by layer number, then by name
            want.sort(Comparator.comparingInt((String n) -> n.startsWith("blk.")
                    ? Integer.parseInt(n.substring(4, n.indexOf('.', 4))) : -1).thenComparing(n -> n));
            assertEquals(want, names);
            assertTrue(names.size() > 2, names.toString());
        }
    }

    @Test
    void pureUsesTheBaseTypeAndFallsBackToF16WhenNoBlockFits() throws Exception {
        Path out = quantized("pure.gguf", QuantPreset.Q6_K, true);
        try (GgufFile q = Gguf.open(out)) {
            assertEquals(GgufType.Q6_K, q.info("output.weight").type());
            assertEquals(GgufType.Q6_K, q.info("blk.3.attn_v.weight").type());
            assertEquals(GgufType.Q8_0, q.info("odd.weight").type());       // Q6_K -> Q8_0 for 96-wide rows
        }
        assertEquals(GgufType.F16, QuantPreset.Q8_0.typeFor("blk.0.ffn_down.weight", new long[] {64, 172},
                GgufType.F32, 5, false));
        // llama.cpp's Q4_K_S: attn_v one step up (Q5_K) in the first 4 layers
        assertEquals(GgufType.Q5_K, QuantPreset.Q4_K_S.typeFor("blk.3.attn_v.weight", new long[] {256, 256},
                GgufType.F32, 32, false));
        assertEquals(GgufType.Q4_K, QuantPreset.Q4_K_S.typeFor("blk.4.attn_v.weight", new long[] {256, 256},
                GgufType.F32, 32, false));
        assertEquals(DType.Q8_0, QuantPreset.parse("q8_0").base().dtype());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantPreset.parse("Q2_K_S"));
        assertTrue(e.getMessage().contains("Q4_K_M") && e.getMessage().contains("Q3_K_L"), e.getMessage());
    }

    @Test
    void anAlreadyQuantizedFileIsRefusedNamingTheTensor() throws Exception {
        Path once = quantized("once.gguf", QuantPreset.Q8_0, true);
        try (GgufFile q = Gguf.open(once)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgufQuantize.quantize(q,
                    tmp.resolve("twice.gguf"), QuantPreset.Q4_0, false, GgufQuantize.SILENT));
            assertTrue(e.getMessage().contains("once.gguf") && e.getMessage().contains("already Q8_0"), e.getMessage());
        }
    }

    /**
     * The 2- and 3-bit presets' file types (llama.h's LLAMA_FTYPE_MOSTLY_Q2_K … Q3_K_L), and the fallback of rows that
     * are not whole 256-blocks: Q2_K and Q3_K to Q4_0, then to F16 (where llama.cpp refuses the model); the Q6_K head
     * to Q8_0. The per-tensor mix rules are checked against llama-quantize itself in QuantPresetVsLlamaCppTest.
     */
    @Test
    void lowBitPresetsFileTypesAndFallbacks() {
        assertEquals(10, QuantPreset.Q2_K.fileType());
        assertEquals(11, QuantPreset.Q3_K_S.fileType());
        assertEquals(12, QuantPreset.Q3_K_M.fileType());
        assertEquals(13, QuantPreset.Q3_K_L.fileType());
        // Rows that are not whole 256-blocks: Q2_K and Q3_K fall back to Q4_0, then to F16; the Q6_K head to Q8_0.
        String fallbacks = """
                Q3_K_S blk.0.attn_q.weight 64 Q4_0
                Q2_K blk.0.ffn_up.weight 96 Q4_0
                Q2_K blk.0.ffn_up.weight 100 F16
                Q3_K_M output.weight 64 Q8_0
                """; // preset, tensor, row length, expected type
        for (String line : fallbacks.lines().toList()) {
            String[] f = line.split(" ");
            long[] shape = {512, Long.parseLong(f[2])};
            assertEquals(GgufType.valueOf(f[3]), QuantPreset.parse(f[0]).typeFor(f[1], shape, GgufType.F32, 2, false),
                    line);
        }
    }
}
