package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.quant.Aespa;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.QuantizedLinear;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibrated quantization of BERT encoders: the sequential encoder protocol on the synthetic BERT GGUF writes a
 * GGUF that loads as an encoder, whose packed blocks decode exactly to the quantizer's output and whose
 * embeddings stay close to the float32 model's; and the ONNX → GGUF conversion of the built-in MiniLM embeds as
 * the ONNX model does, with llama.cpp's vocabulary layout.
 */
class EncoderQuantizerTest {
    static final List<String> TEXTS = List.of("The cat sat on the mat.", "A quick brown fox jumps over the lazy dog.",
            "Quantized weights should keep the embeddings close.", "Where is the nearest train station?",
            "The committee approved the new budget yesterday.", "I like apples and oranges.",
            "Rain is expected in the mountains tonight.", "She wrote a long letter to her brother.");
    static final List<String> HELD_OUT = List.of("The dog slept under the table.", "Prices rose sharply last year.",
            "How do I repair a flat tyre?", "Music fills the old concert hall.");

    @TempDir
    Path dir;

    @Test
    void gptq8BitEncoderLoadsDecodesLosslesslyAndEmbedsCloseToFloat() throws IOException {
        Path path = SharedModels.require("synthetic/synth-bert-f32.gguf");
        try (EmbeddingModel f32 = EmbeddingModel.fromGguf(path); GgufFile file = Gguf.open(path)) {
            List<int[]> calib = TEXTS.stream().map(f32::tokenIds).toList();
            var opt = new SiteQuantizer.Options(SiteQuantizer.Method.GPTQ, GgmlBlocks.scheme(8, 32, true,
                    ClipSearch.NONE), GptqOptions.DEFAULT.withActOrder(true).withStaticGroups(true),
                    Aespa.Options.QKV, false);
            for (boolean onePass : new boolean[] {false, true}) {
                List<String> lines = new ArrayList<>();
                SequentialQuantizer.Result r = EncoderQuantizer.run(file, calib, opt, onePass, lines::add);
                assertEquals(2 * 6, r.quantized().size(), r.quantized().keySet().toString());   // q k v o up down × 2
                Path out = dir.resolve("q8-" + onePass + ".gguf");
                QuantizedGguf.write(file, out, r.quantized(), r.replacedF32(), "gptq");
                try (GgufFile written = Gguf.open(out); EmbeddingModel q = EmbeddingModel.fromGguf(out)) {
                    boolean changed = false;
                    for (Map.Entry<String, QuantizedLinear> e : r.quantized().entrySet()) {
                        assertEquals(GgufType.Q8_0, written.info(e.getKey()).type(), e.getKey());
                        float[] decoded = GgmlBlocksTest.decode(written, e.getKey());
                        // exact by design: fp16 scales fixed before codes are chosen, d·q exact in float32
                        assertArrayEquals(e.getValue().dequantize(), decoded, e.getKey());
                        changed |= !java.util.Arrays.equals(decoded, file.tensor(e.getKey()).toF32().toFloatArray());
                    }
                    assertTrue(changed, "8-bit rounding must change some weight");
                    assertEquals(GgufType.F32, written.info("token_embd.weight").type());
                    assertEmbedsClose(q, f32);
                }
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("layer 2/2 ffn_down")), String.join("\n", lines));
            }
        }
    }

    /**
     * AWQ on an encoder searches scales at the attention output only and folds them into v (AwqFoldingTest checks the
     * fold exact): the written file carries v's divided biases as float32 next to the rescaled v blocks, and at 8 bits
     * (Q8_0, relative weight error ~1e-3) it embeds as close to the float model as GPTQ's above (1 − cos ≤ 0.01).
     */
    @Test
    void awqFoldsIntoValuesAndWritesTheirBiases() throws IOException {
        Path path = SharedModels.require("synthetic/synth-bert-f32.gguf");
        try (EmbeddingModel f32 = EmbeddingModel.fromGguf(path); GgufFile file = Gguf.open(path)) {
            List<int[]> calib = TEXTS.stream().map(f32::tokenIds).toList();
            var opt = new SiteQuantizer.Options(SiteQuantizer.Method.AWQ, GgmlBlocks.scheme(8, 32, true, ClipSearch.NONE),
                    GptqOptions.DEFAULT, Aespa.Options.QKV, false);
            SequentialQuantizer.Result r = EncoderQuantizer.run(file, calib, opt, true, s -> { });
            assertEquals(12, r.quantized().size(), r.quantized().keySet().toString());
            assertEquals(List.of("blk.0.attn_v.bias", "blk.1.attn_v.bias"), List.copyOf(r.replacedF32().keySet()));
            // the fold really divides: some bias element moved by more than float32 rounding (a search that chose
            // s = 1 everywhere would write the biases unchanged)
            float maxChange = 0;
            for (var e : r.replacedF32().entrySet()) {
                float[] before = file.tensor(e.getKey()).toFloatArray(), after = e.getValue().toFloatArray();
                for (int i = 0; i < before.length; i++) {
                    maxChange = Math.max(maxChange, Math.abs(after[i] - before[i]) / Math.max(1e-6f, Math.abs(before[i])));
                }
            }
            assertTrue(maxChange > 1e-3, "AWQ's v-bias fold left the biases unchanged (largest relative change "
                    + maxChange + ")");
            Path out = dir.resolve("awq8.gguf");
            QuantizedGguf.write(file, out, r.quantized(), r.replacedF32(), "awq");
            try (EmbeddingModel q = EmbeddingModel.fromGguf(out)) {
                assertEmbedsClose(q, f32);
            }
        }
    }

    /**
     * The encoder honours AWQ's exponent groups ({@code --awq-scales}): one exponent per input channel at o moves
     * some of v's folded biases away from the one-exponent result (the per-group search keeps any exponent that
     * lowers the output error, and with a channel per group some does).
     */
    @Test
    void awqExponentGroupsReachTheEncoderFold() throws IOException {
        Path path = SharedModels.require("synthetic/synth-bert-f32.gguf");
        try (EmbeddingModel f32 = EmbeddingModel.fromGguf(path); GgufFile file = Gguf.open(path)) {
            List<int[]> calib = TEXTS.stream().map(f32::tokenIds).toList();
            List<float[]> biases = new ArrayList<>();
            for (int group : new int[] {0, 1}) {
                var opt = new SiteQuantizer.Options(SiteQuantizer.Method.AWQ, GgmlBlocks.scheme(4, 32, false,
                        ClipSearch.NONE), GptqOptions.DEFAULT, Aespa.Options.QKV, false,
                        SiteQuantizer.AwqObjective.LINEAR, false, group, false, false);
                biases.add(EncoderQuantizer.run(file, calib, opt, true, s -> { }).replacedF32()
                        .get("blk.0.attn_v.bias").toFloatArray());
            }
            assertTrue(!java.util.Arrays.equals(biases.get(0), biases.get(1)),
                    "per-channel exponents left every scale of the site's single exponent");
        }
    }

    /**
     * The packed output pass (sequences back to back, attention within each) against one sequence at a time: both
     * are float32 forwards of the same block, equal up to summation order (tolerance 1e-4 of the row's largest
     * value: a few float32 ulps accumulated through two 2-block layers).
     */
    @Test
    void packedBlockPassMatchesOneSequenceAtATime() throws IOException {
        Path path = SharedModels.require("synthetic/synth-bert-f32.gguf");
        try (EmbeddingModel f32 = EmbeddingModel.fromGguf(path); GgufFile file = Gguf.open(path)) {
            var stack = dev.interlayer.models.bert.BertModel.load(file, file).stack();
            var blocks = new dev.interlayer.nn.EncoderStack(null, null, null, stack.blocks(), null);
            List<dev.interlayer.tensor.Tensor> xs = new ArrayList<>();
            for (String t : TEXTS) {
                xs.add(dev.interlayer.quant.Calibration.encoderInput(stack, f32.tokenIds(t)));
            }
            List<dev.interlayer.tensor.Tensor> packed = dev.interlayer.quant.Calibration.encoderBlocks(blocks, xs);
            assertEquals(xs.size(), packed.size());
            for (int b = 0; b < xs.size(); b++) {
                float[] want = dev.interlayer.quant.Calibration.encoderBlocks(blocks, xs.get(b), null).toFloatArray();
                float[] got = packed.get(b).toFloatArray();
                assertEquals(xs.get(b).shape(), packed.get(b).shape(), "sequence " + b);
                float max = 0;
                for (float v : want) {
                    max = Math.max(max, Math.abs(v));
                }
                assertArrayEquals(want, got, 1e-4f * max, "sequence " + b);
            }
        }
    }

    @Test
    void gptqNeedsCalibrationAndRtnRunsWithout() throws IOException {
        Path path = SharedModels.require("synthetic/synth-bert-f32.gguf");
        try (GgufFile file = Gguf.open(path)) {
            var scheme = GgmlBlocks.scheme(4, 32, false, ClipSearch.NONE);
            var gptq = new SiteQuantizer.Options(SiteQuantizer.Method.GPTQ, scheme, GptqOptions.DEFAULT,
                    Aespa.Options.QKV, false);
            var e = assertThrows(IllegalArgumentException.class, () -> EncoderQuantizer.run(file, null, gptq, false, s -> { }));
            assertTrue(e.getMessage().contains("calibration"), e.getMessage());
            var rtn = new SiteQuantizer.Options(SiteQuantizer.Method.RTN, scheme, GptqOptions.DEFAULT,
                    Aespa.Options.QKV, false);
            SequentialQuantizer.Result r = EncoderQuantizer.run(file, null, rtn, false, s -> { });
            assertEquals(12, r.quantized().size());
            assertEquals(0, r.calibrationTokens());
        }
    }

    @Test
    void minilmOnnxConvertsToAGgufThatEmbedsAsTheOnnxModel() throws IOException {
        Path vocab = SharedModels.require("tokenizers/ggml-vocab-bert-bge.gguf");
        Path out = dir.resolve("minilm-f32.gguf");
        EncoderGguf.fromOnnx(EmbeddingModel.defaultOnnxPath(), EmbeddingModel.defaultTokenizerPath(), "all-MiniLM-L6-v2",
                out);
        try (EmbeddingModel onnx = EmbeddingModel.defaultModel(); EmbeddingModel gguf = EmbeddingModel.fromGguf(out);
             GgufFile written = Gguf.open(out); GgufFile bge = Gguf.open(vocab)) {
            // PROVENANCE.md: llama.cpp's bge vocabulary equals MiniLM's id for id in llama.cpp's layout
            assertEquals(list(bge.get("tokenizer.ggml.tokens")), list(written.get("tokenizer.ggml.tokens")));
            assertEquals(list(bge.get("tokenizer.ggml.token_type")), list(written.get("tokenizer.ggml.token_type")));
            List<float[]> a = gguf.embed(HELD_OUT), b = onnx.embed(HELD_OUT);
            for (int i = 0; i < HELD_OUT.size(); i++) {
                assertArrayEquals(onnx.tokenIds(HELD_OUT.get(i)), gguf.tokenIds(HELD_OUT.get(i)), HELD_OUT.get(i));
                // the same float32 weights through the same kernels; 1e-6 allows for a different batch grouping
                assertArrayEquals(b.get(i), a.get(i), 1e-6f, HELD_OUT.get(i));
            }
            assertEquals(1, written.getInt("bert.pooling_type", -1));
            // llama.cpp refuses the file without it (token_types.weight "expected 384, 0")
            assertEquals(bge.getInt("tokenizer.ggml.token_type_count", -1),
                    written.getInt("tokenizer.ggml.token_type_count", -2));
            assertFalse(written.getBoolean("bert.attention.causal", true));
        }
    }

    // 8-bit codes with fp16 block scales: relative weight error ~1e-3, far inside 1 − cos ≤ 0.01 on every held-out text
    private static void assertEmbedsClose(EmbeddingModel q, EmbeddingModel f32) {
        List<float[]> a = q.embed(HELD_OUT), b = f32.embed(HELD_OUT);
        for (int i = 0; i < HELD_OUT.size(); i++) {
            double cos = EmbeddingEval.cosine(a.get(i), b.get(i));
            assertTrue(cos >= 0.99 && cos < 1, HELD_OUT.get(i) + ": cosine " + cos);
        }
    }

    private static List<Object> list(Object array) {
        if (array instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < Array.getLength(array); i++) {
            out.add(Array.get(array, i));
        }
        return out;
    }
}
