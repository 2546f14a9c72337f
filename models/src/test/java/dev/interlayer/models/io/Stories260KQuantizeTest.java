package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.BlockFormats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * stories260K (all F32, rows 64 and 172 wide) quantized with each block-32 preset: the file reopens,
 * every tensor keeps its shape, 64-wide weights take the preset's type and the 172-wide ffn_down falls
 * back to F16 (172 is not a multiple of 32, as llama.cpp does), norms stay F32, and every quantized
 * value is within the format's rounding bound of the original. Derivation: before the scale is stored,
 * {@code |x − d·q − m| ≤ d/2} (Q8_0, and the affine Q4_1/Q5_1 with offset m = the block minimum), or
 * {@code ≤ |d|} for the signed-max Q4_0/Q5_0 (their extreme positive values clamp a full step); storing
 * d and m as f16 moves a value by at most {@code 2^-11·(Q·|d| + |m|)}, Q the largest code magnitude
 * multiplying d (127, 8, 16, 15, 31), plus 2^-24 for subnormal halves. d below is the stored scale.
 * Also: each quantized weight multiplies through {@link Ops#matmulT}. The bytes themselves are checked
 * against gguf-py's quantizers by reference/quant/check_written_gguf.py (all equal for these presets).
 */
class Stories260KQuantizeTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = QuantPreset.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void blockPresetsQuantizeWithinTheirRoundingBound(QuantPreset preset) throws Exception {
        Path src = SharedModels.require("stories260K/stories260K.gguf"), out = tmp.resolve("q.gguf");
        try (GgufFile in = Gguf.open(src)) {
            GgufQuantize.quantize(in, out, preset, true, GgufQuantize.SILENT); // pure: every weight in the block format
            try (GgufFile q = Gguf.open(out)) {
                int quantized = 0;
                for (GgufTensorInfo t : in.tensorInfos()) {
                    GgufTensorInfo u = q.info(t.name());
                    assertEquals(t.shape(), u.shape(), t.name());
                    int row = t.shape().dim(-1);
                    GgufType want = t.shape().rank() == 1 ? GgufType.F32 : row % 32 == 0 ? preset.base() : GgufType.F16;
                    assertEquals(want, u.type(), t.name());
                    if (!u.type().isQuantized()) {
                        continue;
                    }
                    quantized++;
                    float[] x = in.tensor(t.name()).toFloatArray(), y = new float[x.length];
                    MemorySegment raw = q.rawData(t.name());
                    BlockFormats.of(u.type().dtype()).dequantizeRow(raw, 0, x.length, y, 0);
                    boolean signedMax = preset == QuantPreset.Q4_0 || preset == QuantPreset.Q5_0;
                    boolean affine = preset == QuantPreset.Q4_1 || preset == QuantPreset.Q5_1;
                    int qmax = switch (preset) {
                        case Q8_0 -> 127;
                        case Q4_0 -> 8;
                        case Q5_0 -> 16;
                        case Q4_1 -> 15;
                        default -> 31;
                    };
                    for (int b = 0; b < x.length / 32; b++) {
                        float d = Math.abs(Float.float16ToFloat(raw.get(ValueLayout.JAVA_SHORT_UNALIGNED,
                                (long) b * u.type().blockBytes())));
                        double min = Double.MAX_VALUE;
                        for (int i = 32 * b; i < 32 * b + 32; i++) {
                            min = Math.min(min, x[i]);
                        }
                        double bound = (signedMax ? d : d / 2.0) * (1 + 0x1p-10)
                                + 0x1p-11 * (qmax * d + (affine ? Math.abs(min) : 0)) + 0x1p-24;
                        for (int i = 32 * b; i < 32 * b + 32; i++) {
                            assertTrue(Math.abs(x[i] - y[i]) <= bound, t.name() + "[" + i + "]: " + x[i] + " -> " + y[i]
                                    + " (d " + d + ", bound " + bound + ")");
                        }
                    }
                    Tensor w = q.tensor(t.name());
                    Ops.matmulT(Tensor.zeros(1, w.dim(1)), w, Tensor.zeros(1, w.dim(0)));
                }
                assertEquals(32, quantized, "7 weights per layer minus ffn_down (6) x 5 layers + embeddings + output");
            }
        }
    }
}
