package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufQuantize;
import dev.interlayer.models.io.GgufTensorInfo;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.models.io.GgufWriter;
import dev.interlayer.models.io.QuantPreset;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a GGUF file from a source GGUF and a quantizer's output: every metadata value is copied (with
 * {@code general.file_type} set to the block type's llama.cpp file type and {@code general.quantization_version}
 * = 2), each quantized linear (or stack of experts, {@link QuantizedLinear#stackRows}) is packed losslessly
 * into its {@link GgmlBlocks} type, replaced float tensors (AWQ's
 * scaled norms) are written as F32, and every other tensor is copied byte for byte.
 */
public final class QuantizedGguf {
    private QuantizedGguf() {
    }

    /**
     * Writes {@code out}; returns its size in bytes.
     *
     * @param quantized linears by tensor name, all on one block type's grid
     * @param floats    tensors by name to store as F32 instead of the source's
     * @throws IllegalArgumentException if a name is not in {@code in} or a linear's shape differs from the source's
     */
    public static long write(GgufFile in, Path out, Map<String, QuantizedLinear> quantized, Map<String, Tensor> floats,
                             String method) throws IOException {
        GgufType base = null;
        for (QuantizedLinear q : quantized.values()) {
            base = GgmlBlocks.typeOf(q.scheme());
        }
        GgufWriter w = GgufQuantize.quantizedHeader(in, base == null ? null : QuantPreset.valueOf(base.name()));
        w.putString("interlayer.quantize.method", method);
        quantized.keySet().forEach(in::info);              // each throws naming the file and close names
        floats.keySet().forEach(in::info);
        for (GgufTensorInfo t : in.tensorInfos()) {
            QuantizedLinear q = quantized.get(t.name());
            Tensor f = floats.get(t.name());
            if (q != null) {
                // a 2-D linear [rows, cols], or a stack of experts [E, rows, cols] as [E·rows, cols] (same bytes)
                if (t.shape().rank() < 2 || t.shape().dim(-1) != q.cols() || t.elements() != (long) q.rows() * q.cols()) {
                    throw new IllegalArgumentException("quantized " + t.name() + " is [" + q.rows() + ", " + q.cols()
                            + "], the source tensor " + t.shape());
                }
                byte[] b = GgmlBlocks.pack(q);
                w.addTensor(t.name(), GgmlBlocks.typeOf(q.scheme()), t.shape(),
                        ch -> GgufWriter.writeFully(ch, ByteBuffer.wrap(b)));
            } else if (f != null) {
                float[] v = f.toFloatArray();
                byte[] b = new byte[4 * v.length];
                MemorySegment.copy(v, 0, MemorySegment.ofArray(b), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
                w.addTensor(t.name(), GgufType.F32, t.shape(), ch -> GgufWriter.writeFully(ch, ByteBuffer.wrap(b)));
            } else {
                MemorySegment src = in.rawData(t.name());
                w.addTensor(t.name(), t.type(), t.shape(), ch -> GgufWriter.writeFully(ch, src.asByteBuffer()));
            }
        }
        w.write(out, done -> { });
        return java.nio.file.Files.size(out);
    }
}
