package dev.interlayer.models.io;

import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.FloatFormats;
import dev.interlayer.tensor.quant.Quantizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Quantizes a GGUF model with F32/F16/BF16 weights into a {@link QuantPreset}: every metadata value is
 * copied with its GGUF type ({@code general.file_type} set to the preset's llama.cpp value,
 * {@code general.quantization_version} = 2), each tensor is stored as {@link QuantPreset#typeFor} says,
 * and the rows are quantized with ggml's reference rounding ({@link Quantizer}) a batch at a time, in
 * parallel on the {@link ComputePool}, while the file is written (the model is never held in memory).
 * Tensors are written in llama-quantize's order (outside the layers first, then layer by layer, by
 * name), so that for the same input and type mix the file is byte-identical to llama-quantize's.
 */
public final class GgufQuantize {
    /** Rows quantized per parallel batch. */
    private static final int BATCH_ROWS = 256;

    /** What was written: per-type tensor counts and sizes. */
    public record Summary(long parameters, long quantizedParameters, long quantizedBytes, long fileBytes,
                          List<String> lines) {
        /** Bits per weight over the tensors that were quantized (codes, scales and mins). */
        public double quantizedBpw() {
            return quantizedParameters == 0 ? 0 : 8.0 * quantizedBytes / quantizedParameters;
        }

        /** Bits per weight of the whole file (metadata, norms and unquantized tensors included). */
        public double fileBpw() {
            return parameters == 0 ? 0 : 8.0 * fileBytes / parameters;
        }
    }

    private GgufQuantize() {
    }

    /**
     * Writes {@code in} quantized with {@code preset} to {@code out}; {@code progress} gets the fraction
     * of tensor bytes written (0..1) and the tensor being written.
     *
     * @throws IOException              on I/O failure or a malformed input
     * @throws IllegalArgumentException if a weight the preset quantizes is already quantized
     */
    public static Summary quantize(GgufFile in, Path out, QuantPreset preset, boolean pure,
                                   java.util.function.BiConsumer<Double, String> progress) throws IOException {
        return quantize(in, out, preset, pure, null, progress);
    }

    /**
     * Per-tensor importance for llama-quantize's {@code --imatrix} rounding ({@link Quantizer#quantizeRow(DType,
     * float[], int, int, float[], MemorySegment, long)}).
     */
    @FunctionalInterface
    public interface Importance {
        /**
         * The importance of tensor {@code name}'s {@code columns} input columns, {@code experts} vectors one after
         * another (1 for a 2-D weight), or null to round it unweighted.
         *
         * @throws IllegalArgumentException if the importance is there but does not fit the tensor
         */
        float[] of(String name, int columns, int experts);
    }

    /**
     * {@link #quantize(GgufFile, Path, QuantPreset, boolean, java.util.function.BiConsumer)} with importance-weighted
     * rounding when {@code importance} is not null: every tensor that is quantized is looked up (as llama-quantize
     * looks it up in its importance matrix, only when it changes type) and its rows rounded with its vector, a 3-D
     * MoE tensor's rows with their expert's; the Q4_0/Q5_0 mixes then follow llama.cpp's imatrix type rule
     * ({@link QuantPreset#typeFor(String, long[], GgufType, QuantPreset.Model, boolean, boolean)}).
     */
    public static Summary quantize(GgufFile in, Path out, QuantPreset preset, boolean pure, Importance importance,
                                   java.util.function.BiConsumer<Double, String> progress) throws IOException {
        return quantize(in, out, preset, pure, importance, null, progress);
    }

    /**
     * llama-quantize's record of the importance matrix it rounded with, four metadata keys written after
     * {@code general.file_type} in this order: {@code quantize.imatrix.file} (string), {@code quantize.imatrix.dataset}
     * (string, only when there is one), {@code quantize.imatrix.entries_count} (int32) and
     * {@code quantize.imatrix.chunks_count} (int32, only when positive). The strings are stored as llama-quantize
     * stores them: C strings cut at 127 bytes (and at a NUL), here at the last whole UTF-8 character.
     *
     * @param file    the importance matrix's path exactly as given on the command line
     * @param dataset the calibration data set it names, or null
     * @param entries its number of entries
     * @param chunks  the calibration chunks it was computed on (0 or less: unknown, not written)
     */
    public record Provenance(String file, String dataset, int entries, int chunks) {
        static final String FILE = "quantize.imatrix.file", DATASET = "quantize.imatrix.dataset",
                ENTRIES = "quantize.imatrix.entries_count", CHUNKS = "quantize.imatrix.chunks_count";
        /** llama.cpp's {@code llama_model_kv_override::val_str} holds 128 chars, the last a NUL. */
        static final int MAX_STRING_BYTES = 127;

        /** The keys this writes. */
        java.util.Set<String> keys() {
            java.util.Set<String> k = new java.util.LinkedHashSet<>(List.of(FILE, ENTRIES));
            if (dataset != null && !dataset.isEmpty()) {
                k.add(DATASET);
            }
            if (chunks > 0) {
                k.add(CHUNKS);
            }
            return k;
        }

        void writeTo(GgufWriter w) {
            w.putStringBytes(FILE, cString(file));
            if (dataset != null && !dataset.isEmpty()) {    // llama-quantize tests the string before cutting it
                w.putStringBytes(DATASET, cString(dataset));
            }
            w.putI32(ENTRIES, entries);
            if (chunks > 0) {
                w.putI32(CHUNKS, chunks);
            }
        }

        /**
         * {@code strncpy(dst, s, 127)} read back as a C string: up to the first NUL, at most 127 bytes; but never
         * inside a UTF-8 sequence: llama.cpp would keep the sequence's first bytes, a string GGUF readers that check
         * UTF-8 (Interlayer's) refuse, so such a cut drops the whole character (only then do the files differ).
         */
        static byte[] cString(String s) {
            byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int n = 0;
            while (n < Math.min(b.length, MAX_STRING_BYTES) && b[n] != 0) {
                n++;
            }
            while (n < b.length && n > 0 && (b[n] & 0xC0) == 0x80) {    // b[n] continues the character at n - 1
                n--;
            }
            return java.util.Arrays.copyOf(b, n);
        }
    }

    /**
     * The same, with llama-quantize's {@code quantize.imatrix.*} metadata ({@link Provenance}) when
     * {@code provenance} is not null; an input value of one of its keys is replaced (the key moved after the file
     * type, as llama-quantize's {@code gguf_set_val_*} removes and appends it).
     */
    public static Summary quantize(GgufFile in, Path out, QuantPreset preset, boolean pure, Importance importance,
                                   Provenance provenance, java.util.function.BiConsumer<Double, String> progress)
            throws IOException {
        QuantPreset.Model facts = facts(in);
        GgufWriter w = quantizedHeader(in, preset, provenance == null ? java.util.Set.of() : provenance.keys());
        if (provenance != null) {
            provenance.writeTo(w);
        }
        long params = 0, qParams = 0, qBytes = 0;
        List<String> lines = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<GgufTensorInfo> infos = new ArrayList<>(in.tensorInfos());
        infos.sort(LLAMA_ORDER);
        for (GgufTensorInfo t : infos) {
            long[] shape = java.util.Arrays.stream(t.shape().dims()).asLongStream().toArray();
            GgufType target = preset.typeFor(t.name(), shape, t.type(), facts, pure, importance != null);
            if (t.type().isQuantized() && preset.typeFor(t.name(), shape, GgufType.F32, facts, pure) != GgufType.F32) {
                // Copying it would stamp a file type the tensor does not have; re-rounding it would add a second
                // rounding error (llama-quantize also refuses without --allow-requantize).
                throw new IllegalArgumentException(in.path().getFileName() + ": tensor '" + t.name() + "' is already "
                        + t.type() + "; quantize takes F32, F16 or BF16 weights (start from the unquantized file)");
            }
            params += t.elements();
            boolean floats = t.type() == GgufType.F32 || t.type() == GgufType.F16 || t.type() == GgufType.BF16;
            if (target != t.type() && !floats) {
                throw new IllegalArgumentException(in.path().getFileName() + ": tensor '" + t.name() + "' is "
                        + t.type() + "; only F32, F16 and BF16 tensors can be quantized");
            }
            float[][] weights = target != t.type() && target.isQuantized() && importance != null
                    ? perExpert(importance, t) : null;
            GgufWriter.TensorData data = target == t.type() ? copy(in.rawData(t.name()))
                    : convert(in.rawData(t.name()), t.type(), target, t.shape().dim(-1), t.elements(), weights);
            w.addTensor(t.name(), target, t.shape(), data);
            names.add(t.name());
            if (target.isQuantized()) {
                qParams += t.elements();
                qBytes += t.elements() / target.blockSize() * target.blockBytes();
            }
            lines.add(String.format("%-40s %-5s -> %-5s %s", t.name(), t.type(), target, t.shape()));
        }
        long total = Math.max(1, w.tensorBytes());
        int[] index = {0};
        w.write(out, done -> progress.accept((double) done / total, names.get(Math.min(index[0]++, names.size() - 1))));
        return new Summary(params, qParams, qBytes, java.nio.file.Files.size(out), lines);
    }

    /** What llama.cpp's type rules read from {@code in}'s metadata and tensor names. */
    public static QuantPreset.Model facts(GgufFile in) {
        return facts(in.getInt(in.architecture() + ".block_count", 0), queriesPerKvHead(in),
                in.getInt(in.architecture() + ".expert_count", 0), in.tensorInfos().stream().map(GgufTensorInfo::name)
                        .toList());
    }

    /** The same from the counts and the tensor names of a model (tied: no {@code output.weight} among them). */
    static QuantPreset.Model facts(int layers, int gqa, int experts, java.util.Collection<String> names) {
        int attnVs = 0;
        for (String n : names) {
            attnVs += n.contains("attn_v.weight") || n.contains("attn_qkv.weight") || n.contains("attn_kv_b.weight")
                    ? 1 : 0;
        }
        return new QuantPreset.Model(layers, gqa, experts, !names.contains("output.weight"), attnVs);
    }

    /**
     * llama.cpp's {@code n_gqa()} (of layer 0): {@code head_count / head_count_kv}, 0 when there are no KV
     * heads, 1 when the file names no heads. Per-layer head counts (arrays) use their first entry.
     */
    static int queriesPerKvHead(GgufFile in) {
        String p = in.architecture() + ".attention.";
        long heads = firstInt(in.get(p + "head_count"), 1);
        long kv = firstInt(in.get(p + "head_count_kv"), heads);
        return kv == 0 ? 0 : (int) (heads / kv);
    }

    private static long firstInt(Object v, long dflt) {
        if (v instanceof Number n) {
            return n.longValue();
        }
        if (v instanceof int[] a && a.length > 0) {
            return a[0];
        }
        if (v instanceof long[] a && a.length > 0) {
            return a[0];
        }
        return dflt;
    }

    /**
     * llama.cpp's {@code weight_name_comparer}, the order llama-quantize writes tensors in: tensors outside
     * the {@code blk.N.} layers first, then layer by layer, by name within each group.
     */
    static final java.util.Comparator<GgufTensorInfo> LLAMA_ORDER = java.util.Comparator
            .comparingInt((GgufTensorInfo t) -> QuantPreset.layerOf(t.name())).thenComparing(GgufTensorInfo::name);


    /**
     * A writer holding every metadata value of {@code in} except its file type, with
     * {@code general.quantization_version} = 2 and, when {@code preset} is not null, {@code general.file_type} =
     * the preset's llama.cpp file type: the header of a quantized copy of {@code in}.
     */
    public static GgufWriter quantizedHeader(GgufFile in, QuantPreset preset) throws IOException {
        return quantizedHeader(in, preset, java.util.Set.of());
    }

    /** The same without {@code in}'s values of the keys {@code later} (the caller writes them after the header). */
    static GgufWriter quantizedHeader(GgufFile in, QuantPreset preset, java.util.Set<String> later)
            throws IOException {
        GgufWriter w = new GgufWriter();
        for (String k : in.metadata().keySet()) {
            if (!k.equals("general.file_type") && !k.equals("general.quantization_version") && !later.contains(k)) {
                w.putRaw(k, in.rawMetadataValue(k));
            }
        }
        w.putU32("general.quantization_version", 2);
        if (preset != null) {
            w.putU32("general.file_type", preset.fileType());
        }
        return w;
    }

    private static GgufWriter.TensorData copy(MemorySegment src) {
        return ch -> GgufWriter.writeFully(ch, src.asByteBuffer());
    }

    /**
     * Tensor {@code t}'s importance split per expert ({@code [experts][columns]}, experts = the third dimension),
     * or null for none. Rows {@code e·rows .. (e+1)·rows} use vector e.
     */
    private static float[][] perExpert(Importance importance, GgufTensorInfo t) {
        int cols = t.shape().dim(-1), rank = t.shape().rank();
        int experts = rank >= 3 ? t.shape().dim(-3) : 1;
        float[] all = importance.of(t.name(), cols, experts);
        if (all == null) {
            return null;
        }
        float[][] v = new float[experts][];
        for (int e = 0; e < experts; e++) {
            v[e] = java.util.Arrays.copyOfRange(all, e * cols, (e + 1) * cols);
        }
        return v;
    }

    /**
     * Rows of {@code rowLen} values of {@code from} (F32/F16/BF16) converted to {@code to}, a batch at a time,
     * rounded with {@code importance[row / (rows / experts)]} when it is not null.
     */
    private static GgufWriter.TensorData convert(MemorySegment src, GgufType from, GgufType to, int rowLen,
                                                 long elements, float[][] importance) {
        return ch -> {
            long rows = elements / rowLen;
            int outRow = (int) (rowLen / to.blockSize() * to.blockBytes());
            for (long r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
                int n = (int) Math.min(BATCH_ROWS, rows - r0);
                byte[] batch = new byte[n * outRow];
                MemorySegment dst = MemorySegment.ofArray(batch);
                long first = r0;
                ComputePool.parallelFor(n, i -> {
                    float[] x = new float[rowLen];
                    long at = (first + i) * rowLen;
                    for (int j = 0; j < rowLen; j++) {
                        x[j] = read(src, from, at + j);
                    }
                    if (to == GgufType.F16) {
                        for (int j = 0; j < rowLen; j++) {
                            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, (long) i * outRow + 2L * j,
                                    FloatFormats.f32ToF16(x[j]));
                        }
                    } else if (to == GgufType.F32) {
                        MemorySegment.copy(x, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) i * outRow, rowLen);
                    } else {
                        float[] w = importance == null ? null
                                : importance[(int) ((first + i) / (rows / importance.length))];
                        Quantizer.quantizeRow(dtypeOf(to), x, 0, rowLen, w, dst, (long) i * outRow);
                    }
                });
                write(ch, batch);
            }
        };
    }

    private static void write(WritableByteChannel ch, byte[] b) throws IOException {
        GgufWriter.writeFully(ch, ByteBuffer.wrap(b));
    }

    private static DType dtypeOf(GgufType t) {
        if (t.dtype() == null || !Quantizer.canWrite(t.dtype())) {
            throw new IllegalArgumentException("cannot write " + t + " (writable: "
                    + java.util.Arrays.toString(Quantizer.TARGETS) + ")");
        }
        return t.dtype();
    }

    private static float read(MemorySegment s, GgufType t, long i) {
        return switch (t) {
            case F32 -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i);
            case F16 -> Float.float16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i));
            case BF16 -> FloatFormats.bf16ToF32(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i));
            default -> throw new IllegalArgumentException("cannot quantize from " + t);
        };
    }

    /** Progress callback that ignores updates. */
    public static final java.util.function.BiConsumer<Double, String> SILENT = (f, n) -> { };
}
