package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.tensor.DType;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every block format against independent references, bit for bit: dequantization against the
 * {@code gguf} Python package's numpy dequantizers (random blocks with zero, negative-zero, subnormal,
 * largest-finite and negative f16 scales, and an all-zero block), and quantization against ggml's C
 * {@code quantize_row_*_ref} (fixtures written by reference/quant/*.py; exact equality is the contract,
 * both paths being the same IEEE single-precision operations).
 */
class GgufPyFixturesTest {
    private static final HexFormat HEX = HexFormat.of();

    static JsonObject load(String name) throws Exception {
        try (var in = GgufPyFixturesTest.class.getResourceAsStream("/quant/" + name)) {
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    static float[] floats(String hex) {
        byte[] b = HEX.parseHex(hex);
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @Test
    void dequantizationEqualsGgufPyBitForBit() throws Exception {
        JsonObject deq = load("gguf_py.json").getAsJsonObject("dequantize");
        int formats = 0;
        for (Map.Entry<String, com.google.gson.JsonElement> e : deq.entrySet()) {
            BlockFormat f = BlockFormats.of(DType.valueOf(e.getKey()));
            JsonArray blocks = e.getValue().getAsJsonObject().getAsJsonArray("blocks");
            JsonArray values = e.getValue().getAsJsonObject().getAsJsonArray("values");
            for (int b = 0; b < blocks.size(); b++) {
                MemorySegment seg = MemorySegment.ofArray(HEX.parseHex(blocks.get(b).getAsString()));
                float[] want = floats(values.get(b).getAsString()), got = new float[f.blockSize()];
                f.dequantizeRow(seg, 0, f.blockSize(), got, 0);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                            e.getKey() + " block " + b + " element " + i + ": want " + want[i] + " got " + got[i]);
                }
            }
            formats++;
        }
        assertEquals(12, formats, "fixture covers all 12 read formats");
    }

    @Test
    void quantizationEqualsGgmlReferenceBytes() throws Exception {
        JsonObject doc = load("ggml_ref.json");
        JsonArray inputs = doc.getAsJsonArray("inputs");
        JsonObject bytes = doc.getAsJsonObject("bytes");
        assertEquals(Quantizer.TARGETS.length, bytes.size());
        for (String type : bytes.keySet()) {
            DType t = DType.valueOf(type);
            JsonArray want = bytes.getAsJsonArray(type);
            for (int r = 0; r < inputs.size(); r++) {
                float[] x = floats(inputs.get(r).getAsString());
                byte[] out = new byte[(int) t.byteSize(x.length)];
                Quantizer.quantizeRow(t, x, 0, x.length, MemorySegment.ofArray(out), 0);
                assertEquals(want.get(r).getAsString(), HEX.formatHex(out), type + " row " + r);
            }
        }
    }

    /**
     * gguf-py's quantizers agree with ggml's except on an all-negative-zero block of Q4_0/Q5_0: ggml
     * starts its signed max at +0.0 and writes d = 0/−8 = −0.0 (f16 0x8000), gguf-py takes the block's
     * own −0.0 and writes +0.0. We follow ggml (the issue asks for llama.cpp's bytes); this test pins the
     * one difference so that any other disagreement fails.
     */
    @Test
    void quantizationEqualsGgufPyExceptNegativeZeroSign() throws Exception {
        JsonObject q = load("gguf_py.json").getAsJsonObject("quantize");
        JsonArray inputs = q.getAsJsonArray("inputs");
        int differences = 0;
        for (String type : new String[] {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"}) {
            DType t = DType.valueOf(type);
            JsonArray want = q.getAsJsonArray(type);
            for (int r = 0; r < inputs.size(); r++) {
                float[] x = floats(inputs.get(r).getAsString());
                byte[] out = new byte[t.blockBytes()];
                Quantizer.quantizeRow(t, x, 0, 32, MemorySegment.ofArray(out), 0);
                String got = HEX.formatHex(out), exp = want.get(r).getAsString();
                boolean negZeroBlock = true;
                for (float v : x) {
                    negZeroBlock &= Float.floatToRawIntBits(v) == 0x8000_0000;
                }
                if (negZeroBlock && (t == DType.Q4_0 || t == DType.Q5_0)) {
                    assertEquals("0000" + exp.substring(4), exp, "gguf-py writes +0 scale");
                    assertEquals("0080" + exp.substring(4), got, "ggml writes -0 scale");
                    differences++;
                } else {
                    assertEquals(exp, got, type + " row " + r);
                }
            }
        }
        assertTrue(differences == 2, "the negative-zero block is in the fixture for Q4_0 and Q5_0");
    }
}
