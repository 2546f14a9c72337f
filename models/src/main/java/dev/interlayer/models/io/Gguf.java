package dev.interlayer.models.io;

import dev.interlayer.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads GGUF v2/v3 files (llama.cpp's model format).
 *
 * <p>Layout (all little-endian): magic {@code "GGUF"}, u32 version, u64 tensor count, u64 metadata
 * count; metadata key/value pairs (key = u64 length + UTF-8; u32 value type; value); tensor infos
 * (name, u32 n_dims, u64 ne[n_dims] innermost-first, u32 ggml type, u64 offset relative to the data
 * section); padding to {@code general.alignment} (default 32); tensor data.
 *
 * <p>Everything read from the header is checked against the bytes left in the file before any
 * allocation, and the whole table is validated before the data section is mapped.
 */
public final class Gguf {
    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    /** Alignment of the data section and of each tensor when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Deepest nesting of arrays accepted in metadata (real files use 1). */
    static final int MAX_ARRAY_DEPTH = 8;

    // metadata value types (gguf_type)
    static final int T_UINT8 = 0, T_INT8 = 1, T_UINT16 = 2, T_INT16 = 3, T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6,
            T_BOOL = 7, T_STRING = 8, T_ARRAY = 9, T_UINT64 = 10, T_INT64 = 11, T_FLOAT64 = 12;
    private static final String[] TYPE_NAMES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
            "bool", "string", "array", "uint64", "int64", "float64"};

    /**
     * String arrays longer than this (tokenizer vocabularies and merge lists: 100k+ strings at ~50 heap bytes
     * each) are validated when the file opens but not kept decoded for the life of the file: {@link GgufFile}
     * reads them again when asked (the tokenizer is built once from them).
     */
    static final int DEFERRED_STRINGS = 4096;

    /** Placeholder for a metadata value not kept decoded; {@code typeAt}: file offset of its type field. */
    record Deferred(long typeAt) {
    }

    private Gguf() {
    }

    /** Decodes the metadata value whose type field is at {@code typeAt} (a {@link Deferred} value) anew. */
    static Object readValueAt(Path path, long typeAt, String key) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            GgufReader r = new GgufReader(ch, path);
            r.seek(typeAt);
            int type = r.i32("metadata '" + key + "' type");
            return readValue(r, type, typeAt, "metadata '" + key + "'", 0, false);
        }
    }

    /**
     * Opens, validates and memory-maps a GGUF file. The returned source owns a shared arena; close it
     * to unmap.
     *
     * @throws ModelFormatException if the file is not a valid GGUF v2/v3 file (message: file, byte
     *                              offset, field, expected, found)
     */
    public static GgufFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            GgufReader r = new GgufReader(ch, path);
            Header h = parse(r);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = MemorySegment.NULL;
                long dataBytes = h.fileSize() - h.dataOffset();
                if (!h.tensors().isEmpty() && dataBytes > 0) {
                    data = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), dataBytes, arena);
                }
                return new GgufFile(path, h, arena, data);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    /** Name of a metadata value type id, for messages. */
    static String typeName(int t) {
        return t >= 0 && t < TYPE_NAMES.length ? TYPE_NAMES[t] : "type " + t;
    }

    // What parse validated: the header's values, the tensor table, and where each metadata value is stored
    // (rawMetadata: key -> {file offset of its value type, end of its value}); a GgufFile keeps it as it is.
    record Header(int version, Map<String, Object> metadata, Map<String, GgufTensorInfo> tensors,
                  int alignment, long dataOffset, long fileSize, Map<String, long[]> rawMetadata) {
    }

    private static Header parse(GgufReader r) throws IOException {
        long size = r.fileSize();
        if (size < 4) {
            throw r.error(0, "magic", "4 bytes \"GGUF\"", "a file of " + size + " bytes");
        }
        int magic = r.i32("magic");
        if (magic != MAGIC) {
            throw r.error(0, "magic", "\"GGUF\" (47 47 55 46)", describeMagic(magic));
        }
        long version = r.u32("version");
        if (version == 1) {
            throw r.error(4, "version", "2 or 3", "1 (GGUF v1 uses 32-bit counts; re-convert with a current llama.cpp)");
        }
        if (version != 2 && version != 3) {
            String hint = (version & 0xFFFF) == 0 && version != 0 ? " (looks big-endian; only little-endian files are supported)" : "";
            throw r.error(4, "version", "2 or 3", version + hint);
        }
        long tensorCountAt = r.position();
        long tensorCount = r.count("tensor count");
        long kvCountAt = r.position();
        long kvCount = r.count("metadata count");
        // Cheapest possible entries: a tensor info is >= 8 (name len) + 4 + 4 + 8 bytes; a KV pair >= 8 + 4 + 1.
        if (kvCount > r.remaining() / 13) {
            throw r.error(kvCountAt, "metadata count", "at most " + r.remaining() / 13 + " (13+ bytes each, "
                    + r.remaining() + " bytes left)", Long.toString(kvCount));
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        Map<String, long[]> rawMeta = new LinkedHashMap<>();   // key -> {start of its type field, end of value}
        for (long i = 0; i < kvCount; i++) {
            long at = r.position();
            String key = r.string("metadata key #" + i);
            long typeAt = r.position();
            int type = r.i32("metadata '" + key + "' type");
            Object value = readValue(r, type, typeAt, "metadata '" + key + "'", 0, true);
            if (value == DEFER) {
                value = new Deferred(typeAt);
            }
            if (meta.putIfAbsent(key, value) != null) {
                throw r.error(at, "metadata key #" + i, "unique keys", "duplicate key '" + key + "'");
            }
            rawMeta.put(key, new long[] {typeAt, r.position()});
        }
        int alignment = DEFAULT_ALIGNMENT;
        Object al = meta.get("general.alignment");
        if (al != null) {
            if (!(al instanceof Long l) || l == 0 || l > (1 << 30) || (l & (l - 1)) != 0) {
                throw r.error(-1, "metadata 'general.alignment'", "a uint32 power of two",
                        al + " (" + al.getClass().getSimpleName() + ")");
            }
            alignment = (int) (long) l;
        }
        if (tensorCount > r.remaining() / 24) {
            throw r.error(tensorCountAt, "tensor count", "at most " + r.remaining() / 24 + " (24+ bytes each, "
                    + r.remaining() + " bytes left after metadata)", Long.toString(tensorCount));
        }
        List<long[]> rel = new ArrayList<>();   // per tensor: {relative offset, info offset, offset field offset}
        List<Object[]> raw = new ArrayList<>();
        Map<String, Long> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = r.position();
            String name = r.string("tensor #" + i + " name");
            if (name.isEmpty()) {   // e.g. a tensor count one too high reads padding as a tensor
                throw r.error(at, "tensor #" + i + " name", "a non-empty name", "an empty string");
            }
            String field = "tensor '" + name + "'";
            Long prev = seen.putIfAbsent(name, at);
            if (prev != null) {
                throw r.error(at, field + " name", "unique tensor names", "duplicate of the tensor at byte " + prev);
            }
            long nDimsAt = r.position();
            long nDims = r.u32(field + " n_dims");
            if (nDims > MAX_DIMS) {
                throw r.error(nDimsAt, field + " n_dims", "1.." + MAX_DIMS, Long.toString(nDims));
            }
            long[] ne = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dAt = r.position();
                ne[d] = r.count(field + " ne[" + d + "]");
                if (ne[d] > Integer.MAX_VALUE) {
                    throw r.error(dAt, field + " ne[" + d + "]", "at most " + Integer.MAX_VALUE, Long.toString(ne[d]));
                }
                try {
                    elements = Math.multiplyExact(elements, ne[d]);
                } catch (ArithmeticException e) {
                    throw r.error(dAt, field + " dims", "an element count below 2^63",
                            "overflow in product of " + Arrays.toString(Arrays.copyOf(ne, d + 1)));
                }
            }
            long typeAt = r.position();
            long typeId = r.u32(field + " type");
            GgufType type = GgufType.byId(typeId);
            if (type == null) {
                throw r.error(typeAt, field + " type", "a known ggml type id " + Arrays.toString(knownIds()),
                        Long.toString(typeId));
            }
            if (nDims > 0 && ne[0] % type.blockSize() != 0) {
                throw r.error(typeAt, field + " ne[0]", "a multiple of " + type + "'s block size " + type.blockSize(),
                        Long.toString(ne[0]));
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(elements / type.blockSize(), (long) type.blockBytes());
            } catch (ArithmeticException e) {
                throw r.error(typeAt, field + " byte size", "below 2^63", "overflow (" + elements + " x " + type + ")");
            }
            long offAt = r.position();
            long off = r.count(field + " offset");
            if (off % alignment != 0) {
                throw r.error(offAt, field + " offset", "a multiple of general.alignment " + alignment, Long.toString(off));
            }
            long[] dims = new long[ne.length];
            for (int d = 0; d < ne.length; d++) {
                dims[d] = ne[ne.length - 1 - d];   // GGUF is innermost-first; Shape is outermost-first
            }
            rel.add(new long[] {off, at, offAt, bytes});
            raw.add(new Object[] {name, type, Shape.ofLong(dims)});
        }
        long endOfInfos = r.position();
        long dataOffset = (endOfInfos + alignment - 1) / alignment * alignment;
        if (tensorCount > 0 && dataOffset > size) {
            throw r.error(endOfInfos, "data section", "start (aligned to " + alignment + ") <= file size " + size,
                    Long.toString(dataOffset));
        }
        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (int i = 0; i < raw.size(); i++) {
            long[] t = rel.get(i);
            String name = (String) raw.get(i)[0];
            long start = dataOffset + t[0];   // t[0] < 2^63 and dataOffset <= size, cannot overflow meaningfully
            long end = start < 0 ? -1 : start + t[3];
            if (start < 0 || end < 0 || end > size) {
                throw r.error(t[2], "tensor '" + name + "' data", "end <= " + size + " (file size)",
                        (start < 0 || end < 0 ? "overflow" : Long.toString(end)) + " (offset " + t[0] + " + data start "
                        + dataOffset + " + " + t[3] + " bytes)");
            }
            tensors.put(name, new GgufTensorInfo(name, (GgufType) raw.get(i)[1], (Shape) raw.get(i)[2], start, t[3],
                    t[1]));
        }
        checkNoOverlap(r, tensors, rel);
        return new Header((int) version, Collections.unmodifiableMap(meta), Collections.unmodifiableMap(tensors),
                alignment, dataOffset, size, Collections.unmodifiableMap(rawMeta));
    }

    /**
     * Tensors must not overlap: a tensor whose stored bytes run into the next one has a byte size
     * (implied by its type and shape) that disagrees with the layout the file was written with.
     */
    private static void checkNoOverlap(GgufReader r, Map<String, GgufTensorInfo> tensors, List<long[]> rel)
            throws ModelFormatException {
        List<GgufTensorInfo> byStart = new ArrayList<>(tensors.values());
        long[] offsetFieldAt = new long[byStart.size()];
        for (int i = 0; i < offsetFieldAt.length; i++) {
            offsetFieldAt[i] = rel.get(i)[2];
        }
        Integer[] order = new Integer[byStart.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(byStart.get(a).fileOffset(), byStart.get(b).fileOffset()));
        for (int i = 0; i + 1 < order.length; i++) {
            GgufTensorInfo t = byStart.get(order[i]), next = byStart.get(order[i + 1]);
            long end = t.fileOffset() + t.byteSize();
            if (t.byteSize() > 0 && end > next.fileOffset()) {
                throw r.error(offsetFieldAt[order[i]], "tensor '" + t.name() + "' data (" + t.type() + " " + t.shape()
                        + " = " + t.byteSize() + " bytes at byte " + t.fileOffset() + ")",
                        "to end by byte " + next.fileOffset() + " where tensor '" + next.name() + "' starts",
                        "end at byte " + end + " (its byte size disagrees with the file layout)");
            }
        }
    }

    private static int[] knownIds() {
        return Arrays.stream(GgufType.values()).mapToInt(GgufType::id).toArray();
    }

    private static String describeMagic(int magic) {
        byte[] b = {(byte) magic, (byte) (magic >> 8), (byte) (magic >> 16), (byte) (magic >> 24)};
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x ", x & 0xFF));
        }
        String s = sb.toString().trim();
        if (b[0] == '{' || (b[0] != 0 && b[1] == 0 && b[2] == 0)) {
            s += " (a safetensors file? use Safetensors.open)";
        }
        return s;
    }

    /** Reads one metadata value of type {@code type}; arrays become typed Java arrays or a List (nested). */
    /** What {@link #readArray} returns for a validated but not kept string array (see {@link #DEFERRED_STRINGS}). */
    private static final Object DEFER = new Object();

    // defer: a top-level string array over DEFERRED_STRINGS entries is validated string by string (each one
    // garbage at once, so the young collector reclaims it) and returned as DEFER instead of decoded
    private static Object readValue(GgufReader r, int type, long typeAt, String field, int depth, boolean defer)
            throws IOException {
        return switch (type) {
            case T_UINT8 -> r.u8(field);
            case T_INT8 -> (int) (byte) r.u8(field);
            case T_UINT16 -> r.u16(field);
            case T_INT16 -> (int) (short) r.u16(field);
            case T_UINT32 -> r.u32(field);
            case T_INT32 -> r.i32(field);
            case T_FLOAT32 -> r.f32(field);
            case T_BOOL -> readBool(r, field);
            case T_STRING -> r.string(field);
            case T_UINT64, T_INT64 -> r.i64(field);
            case T_FLOAT64 -> r.f64(field);
            case T_ARRAY -> readArray(r, field, depth, defer);
            default -> throw r.error(typeAt, field + " type", "a GGUF value type 0..12", Integer.toString(type));
        };
    }

    private static boolean readBool(GgufReader r, String field) throws IOException {
        long at = r.position();
        int b = r.u8(field);
        if (b > 1) {
            throw r.error(at, field, "bool 0 or 1", Integer.toString(b));
        }
        return b == 1;
    }

    private static Object readArray(GgufReader r, String field, int depth, boolean defer) throws IOException {
        if (depth >= MAX_ARRAY_DEPTH) {
            throw r.error(r.position(), field, "arrays nested at most " + MAX_ARRAY_DEPTH + " deep", "deeper nesting");
        }
        long typeAt = r.position();
        int et = r.i32(field + " element type");
        long countAt = r.position();
        long n = r.count(field + " count");
        int min = switch (et) {
            case T_UINT8, T_INT8, T_BOOL -> 1;
            case T_UINT16, T_INT16 -> 2;
            case T_UINT32, T_INT32, T_FLOAT32 -> 4;
            case T_UINT64, T_INT64, T_FLOAT64, T_STRING -> 8;   // a string is at least its u64 length
            case T_ARRAY -> 12;                                 // element type + count
            default -> throw r.error(typeAt, field + " element type", "a GGUF value type 0..12", Integer.toString(et));
        };
        if (n > r.remaining() / min) {
            throw r.error(countAt, field + " count", "at most " + r.remaining() / min + " " + typeName(et)
                    + " elements (" + r.remaining() + " bytes left in file)", Long.toString(n));
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw r.error(countAt, field + " count", "at most " + (Integer.MAX_VALUE - 8), Long.toString(n));
        }
        int len = (int) n;
        switch (et) {
            case T_UINT8, T_INT8, T_UINT16, T_INT16, T_INT32 -> {
                int[] a = new int[len];
                for (int i = 0; i < len; i++) {
                    a[i] = ((Number) readValue(r, et, typeAt, field, depth, false)).intValue();
                }
                return a;
            }
            case T_UINT32, T_UINT64, T_INT64 -> {
                long[] a = new long[len];
                for (int i = 0; i < len; i++) {
                    a[i] = ((Number) readValue(r, et, typeAt, field, depth, false)).longValue();
                }
                return a;
            }
            case T_FLOAT32 -> {
                float[] a = new float[len];
                for (int i = 0; i < len; i++) {
                    a[i] = r.f32(field);
                }
                return a;
            }
            case T_FLOAT64 -> {
                double[] a = new double[len];
                for (int i = 0; i < len; i++) {
                    a[i] = r.f64(field);
                }
                return a;
            }
            case T_BOOL -> {
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) {
                    a[i] = readBool(r, field);
                }
                return a;
            }
            case T_STRING -> {
                if (defer && len > DEFERRED_STRINGS) {
                    for (int i = 0; i < len; i++) {
                        r.string(field + "[" + i + "]");
                    }
                    return DEFER;
                }
                String[] a = new String[len];
                for (int i = 0; i < len; i++) {
                    a[i] = r.string(field + "[" + i + "]");
                }
                return a;
            }
            default -> {
                List<Object> a = new ArrayList<>(len);
                for (int i = 0; i < len; i++) {
                    a.add(readArray(r, field + "[" + i + "]", depth + 1, false));
                }
                return Collections.unmodifiableList(a);
            }
        }
    }
}
