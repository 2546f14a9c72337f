package dev.interlayer.models.io;

import dev.interlayer.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Writes GGUF v3 files that llama.cpp loads: magic {@code "GGUF"}, version 3, u64 tensor and metadata
 * counts, metadata (key, u32 value type, value), tensor infos (name, u32 n_dims, u64 ne[] innermost
 * first, u32 ggml type, u64 offset relative to the data section, each a multiple of the alignment),
 * zero padding to {@code general.alignment} (32 unless that key is set), then the tensor data, each
 * tensor zero-padded to the alignment. Tensor bytes are streamed from a callback, so a whole model is
 * never held in memory.
 */
public final class GgufWriter {
    /** Writes exactly a tensor's byte size to {@code out}. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private record Entry(String name, GgufType type, Shape shape, long bytes, TensorData data) {
    }

    private final Map<String, byte[]> metadata = new LinkedHashMap<>();   // key -> u32 type + value
    private final List<Entry> tensors = new ArrayList<>();
    private int alignment = Gguf.DEFAULT_ALIGNMENT;

    /**
     * Metadata {@code key} with its stored bytes (u32 value type, then the value), e.g. from
     * {@link GgufFile#rawMetadataValue}.
     */
    public GgufWriter putRaw(String key, byte[] typeAndValue) {
        if (typeAndValue.length < 5) {
            throw new IllegalArgumentException("metadata '" + key + "': a value type and a value, got "
                    + typeAndValue.length + " bytes");
        }
        metadata.put(key, typeAndValue.clone());
        if (key.equals("general.alignment")) {
            ByteBuffer b = ByteBuffer.wrap(typeAndValue).order(ByteOrder.LITTLE_ENDIAN);
            int type = b.getInt();
            long a = b.getInt() & 0xFFFF_FFFFL;
            if (type != Gguf.T_UINT32 || a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new IllegalArgumentException("general.alignment must be a uint32 power of two");
            }
            alignment = (int) a;
        }
        return this;
    }

    /** A string value. */
    public GgufWriter putString(String key, String value) {
        Bytes b = new Bytes().u32(Gguf.T_STRING);
        b.string(value);
        return putRaw(key, b.toArray());
    }

    /**
     * A string value given as its bytes, written as they are (e.g. a C string cut at a byte count, which may end
     * inside a UTF-8 sequence, as llama.cpp stores it).
     */
    public GgufWriter putStringBytes(String key, byte[] value) {
        return putRaw(key, new Bytes().u32(Gguf.T_STRING).u64(value.length).raw(value).toArray());
    }

    /** An int32 value (e.g. {@code quantize.imatrix.entries_count}). */
    public GgufWriter putI32(String key, int value) {
        return putRaw(key, new Bytes().u32(Gguf.T_INT32).u32(value & 0xFFFF_FFFFL).toArray());
    }

    /** A uint32 value (e.g. {@code general.file_type}, {@code general.quantization_version}). */
    public GgufWriter putU32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("metadata '" + key + "': uint32 out of range: " + value);
        }
        return putRaw(key, new Bytes().u32(Gguf.T_UINT32).u32(value).toArray());
    }

    /** A float32 value. */
    public GgufWriter putF32(String key, float value) {
        long bits = Float.floatToRawIntBits(value) & 0xFFFF_FFFFL;
        return putRaw(key, new Bytes().u32(Gguf.T_FLOAT32).u32(bits).toArray());
    }

    /** A bool value (e.g. {@code bert.attention.causal}). */
    public GgufWriter putBool(String key, boolean value) {
        return putRaw(key, new Bytes().u32(Gguf.T_BOOL).raw(new byte[] {(byte) (value ? 1 : 0)}).toArray());
    }

    /** An array of strings (e.g. {@code tokenizer.ggml.tokens}). */
    public GgufWriter putStrings(String key, List<String> values) {
        Bytes b = new Bytes().u32(Gguf.T_ARRAY).u32(Gguf.T_STRING).u64(values.size());
        values.forEach(b::string);
        return putRaw(key, b.toArray());
    }

    /** An array of int32 values (e.g. {@code tokenizer.ggml.token_type}). */
    public GgufWriter putI32s(String key, int[] values) {
        Bytes b = new Bytes().u32(Gguf.T_ARRAY).u32(Gguf.T_INT32).u64(values.length);
        for (int v : values) {
            b.u32(v & 0xFFFF_FFFFL);
        }
        return putRaw(key, b.toArray());
    }

    /**
     * Adds a tensor of {@code shape} (outermost first, as {@link GgufFile} reports it) stored as
     * {@code type}; {@code data} must write exactly its byte size.
     *
     * @throws IllegalArgumentException if the name repeats, the rank is not 1..4, or the innermost
     *                                  dimension is not a whole number of blocks
     */
    public GgufWriter addTensor(String name, GgufType type, Shape shape, TensorData data) {
        for (Entry e : tensors) {
            if (e.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor '" + name + "'");
            }
        }
        if (shape.rank() < 1 || shape.rank() > Gguf.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "': rank 1.." + Gguf.MAX_DIMS + ", got " + shape);
        }
        if (shape.dim(-1) % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " rows must be whole blocks of "
                    + type.blockSize() + ", got shape " + shape);
        }
        long bytes = Math.multiplyExact(shape.size() / type.blockSize(), (long) type.blockBytes());
        tensors.add(new Entry(name, type, shape, bytes, data));
        return this;
    }

    /** Bytes of tensor data (without padding) added so far. */
    public long tensorBytes() {
        long n = 0;
        for (Entry e : tensors) {
            n += e.bytes;
        }
        return n;
    }

    /**
     * Writes the file. {@code progress} receives the tensor bytes written so far after each tensor.
     *
     * @throws IOException           on I/O failure
     * @throws IllegalStateException if a tensor's callback wrote another number of bytes than its size
     */
    public void write(Path out, LongConsumer progress) throws IOException {
        Bytes h = new Bytes();
        h.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(tensors.size()).u64(metadata.size());
        for (Map.Entry<String, byte[]> kv : metadata.entrySet()) {
            h.string(kv.getKey());
            h.raw(kv.getValue());
        }
        long offset = 0;
        for (Entry e : tensors) {
            h.string(e.name).u32(e.shape.rank());
            for (int d = e.shape.rank() - 1; d >= 0; d--) {
                h.u64(e.shape.dim(d));                 // innermost first
            }
            h.u32(e.type.id()).u64(offset);
            offset = align(offset + e.bytes);
        }
        h.pad(alignment);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(h.toArray()));
            long done = 0;
            for (Entry e : tensors) {
                long start = ch.position();
                e.data.writeTo(ch);
                long written = ch.position() - start;
                if (written != e.bytes) {
                    throw new IllegalStateException("tensor '" + e.name + "' (" + e.type + " " + e.shape + "): wrote "
                            + written + " bytes, expected " + e.bytes);
                }
                writeFully(ch, ByteBuffer.allocate((int) (align(written) - written)));
                done += e.bytes;
                progress.accept(done);
            }
        }
    }

    private long align(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    /** Writes all of {@code b} to {@code ch} (a channel may take fewer bytes per call). */
    public static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Little-endian byte builder for the header. */
    private static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes u32(long v) {
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            return this;
        }

        Bytes u64(long v) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        Bytes string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        Bytes raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        void pad(int alignment) {
            while (out.size() % alignment != 0) {
                out.write(0);
            }
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }
}
