package dev.interlayer.models.io;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.BlockFormat;
import dev.interlayer.tensor.quant.BlockFormats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * An open, validated GGUF file: metadata, tensor table, and the data section mapped read-only into a
 * shared arena. Obtain with {@link Gguf#open}; close to unmap (tensors from it are invalid afterwards).
 *
 * <p>Metadata values are: {@code Integer} for (u)int8/(u)int16/int32, {@code Long} for uint32/int64/uint64
 * (uint64 above 2^63-1 reads negative), {@code Float}, {@code Double}, {@code Boolean}, {@code String};
 * arrays as {@code int[]}, {@code long[]}, {@code float[]}, {@code double[]}, {@code boolean[]},
 * {@code String[]} with the same element mapping, and nested arrays as an unmodifiable {@code List}
 * of those. Thread-safe after construction.
 */
public final class GgufFile implements WeightSource {
    /** Element types {@link #tensor} hands out. */
    public static final List<GgufType> TENSOR_TYPES = List.of(GgufType.F32, GgufType.F16, GgufType.BF16,
            GgufType.I8, GgufType.I32, GgufType.I64, GgufType.Q8_0, GgufType.Q4_0, GgufType.Q4_1, GgufType.Q5_0,
            GgufType.Q5_1, GgufType.Q2_K, GgufType.Q3_K, GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K,
            GgufType.IQ4_NL, GgufType.IQ4_XS);

    private final Path path;
    private final Gguf.Header header;
    private final Map<String, Object> metadata;          // header.metadata()
    private final Map<String, GgufTensorInfo> tensors;   // header.tensors()
    private final Arena arena;
    private final MemorySegment data;   // [dataOffset, fileSize) of the file, read-only
    private volatile boolean closed;

    GgufFile(Path path, Gguf.Header header, Arena arena, MemorySegment data) {
        this.path = path;
        this.header = header;
        this.metadata = header.metadata();
        this.tensors = header.tensors();
        this.arena = arena;
        this.data = data;
    }

    /** The file path. */
    public Path path() {
        return path;
    }

    /** GGUF version (2 or 3). */
    public int version() {
        return header.version();
    }

    /**
     * All metadata key/values in file order (an unmodifiable view). String arrays longer than
     * {@link Gguf#DEFERRED_STRINGS} are decoded from the file anew each time their value is read (so an open
     * model does not keep its tokenizer's source strings on the heap).
     */
    public Map<String, Object> metadata() {
        return new AbstractMap<>() {
            @Override
            public Set<Entry<String, Object>> entrySet() {
                return new AbstractSet<>() {
                    @Override
                    public Iterator<Entry<String, Object>> iterator() {
                        Iterator<String> keys = metadata.keySet().iterator();
                        return new Iterator<>() {
                            @Override
                            public boolean hasNext() {
                                return keys.hasNext();
                            }

                            @Override
                            public Entry<String, Object> next() {
                                String k = keys.next();
                                return new SimpleImmutableEntry<>(k, get(k));
                            }
                        };
                    }

                    @Override
                    public int size() {
                        return metadata.size();
                    }
                };
            }

            @Override
            public Object get(Object key) {
                return key instanceof String k ? GgufFile.this.get(k) : null;
            }

            @Override
            public boolean containsKey(Object key) {
                return metadata.containsKey(key);
            }

            @Override
            public Set<String> keySet() {
                return Collections.unmodifiableSet(metadata.keySet());
            }
        };
    }

    /** Tensor infos in file order. */
    public Collection<GgufTensorInfo> tensorInfos() {
        return tensors.values();
    }

    /** The info of tensor {@code name}. @throws IllegalArgumentException listing close names if absent */
    public GgufTensorInfo info(String name) {
        GgufTensorInfo i = tensors.get(name);
        if (i == null) {
            throw new IllegalArgumentException(path.getFileName() + ": no tensor '" + name + "'; closest: "
                    + WeightSource.closest(tensors.keySet(), name, 5));
        }
        return i;
    }

    /** Data alignment in bytes ({@code general.alignment}, default 32). */
    public int alignment() {
        return header.alignment();
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return header.dataOffset();
    }

    /** File size in bytes. */
    public long fileSize() {
        return header.fileSize();
    }

    /**
     * The stored bytes of metadata value {@code key}: its u32 value type followed by the value, exactly as
     * in the file (so a writer can copy it without losing the GGUF type, e.g. uint32 vs int64), or null
     * if absent.
     */
    public byte[] rawMetadataValue(String key) throws IOException {
        long[] at = header.rawMetadata().get(key);
        if (at == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(at[1] - at[0]));
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            while (b.hasRemaining()) {
                if (ch.read(b, at[0] + b.position()) < 0) {
                    throw new ModelFormatException(path, at[0], "metadata '" + key + "'", (at[1] - at[0]) + " bytes",
                            "end of file (the file changed since it was opened?)");
                }
            }
        }
        return b.array();
    }

    /** {@code general.architecture}, or null. */
    public String architecture() {
        return getString("general.architecture");
    }

    // ---- WeightSource ----

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * A read-only view of tensor {@code name} in the mapped file, shape outermost-first.
     *
     * @throws IllegalArgumentException      if absent (lists the closest names)
     * Block-quantized tensors (Q8_0 … Q6_K, IQ4_NL, IQ4_XS) come back as tensors of their block dtype over
     * the mapped bytes; their f16 scales are checked first (NaN/Inf: {@link UncheckedIOException} wrapping
     * a {@link ModelFormatException} naming file, tensor, type and byte offset). For an untied embedding table
     * ({@code token_embd.weight} beside {@code output.weight}) the pages that check touched are then released from
     * this process's resident set ({@link MemorySegment#unload}); a lookup maps its row back.
     *
     * @throws UnsupportedOperationException if the tensor is of a type with no
     *                                       {@link DType}; the message names the tensor, its type and
     *                                       {@link #TENSOR_TYPES}. Use {@link #rawData} for its bytes.
     * @throws IllegalStateException         after {@link #close()}
     */
    @Override
    public Tensor tensor(String name) {
        GgufTensorInfo i = info(name);
        if (!TENSOR_TYPES.contains(i.type())) {
            throw new UnsupportedOperationException(path.getFileName() + ": tensor '" + name + "' has type "
                    + i.type() + ", which tensor() does not support (supported: " + TENSOR_TYPES
                    + "); rawData() gives its bytes");
        }
        MemorySegment raw = rawData(name);
        if (i.type().isQuantized()) {
            checkScales(i, raw);
            if (raw.isMapped() && name.equals("token_embd.weight") && tensors.containsKey("output.weight")) {
                // the check touched every page (a scale every 18-210 bytes) and would keep the whole table resident,
                // though an untied embedding is read a looked-up row at a time (Q4_0 1B: 148 MB, a few rows used):
                // drop its pages from this process (madvise DONTNEED on a read-only mapping; the page cache keeps
                // them, a read maps them back). Not the other tensors: every token reads them whole, and mapping
                // them back would cost the first token minor faults (0.2-0.6 s per GB measured).
                raw.unload();
            }
        }
        return Tensor.of(i.type().dtype(), i.shape(), raw);
    }

    /**
     * Rejects a block-quantized tensor with a NaN or infinite f16 scale (reading only the scale fields):
     * such a block turns every output it touches into NaN. Throws {@link UncheckedIOException} wrapping
     * a {@link ModelFormatException} that names the file, tensor, type and the block's byte offset.
     */
    private void checkScales(GgufTensorInfo i, MemorySegment raw) {
        BlockFormat f = BlockFormats.of(i.type().dtype());
        long bad = f.firstNonFiniteScale(raw, 0, i.byteSize() / f.blockBytes());
        if (bad >= 0) {
            long at = i.fileOffset() + bad * f.blockBytes();
            throw new UncheckedIOException(new ModelFormatException(path, at, "tensor '" + i.name() + "' (" + i.type()
                    + ") block " + bad + " scale", "a finite f16 scale", "NaN or infinity"));
        }
    }

    /** The stored bytes of tensor {@code name}, any type (read-only slice of the mapping). */
    public MemorySegment rawData(String name) {
        GgufTensorInfo i = info(name);
        if (closed) {
            throw new IllegalStateException(path.getFileName() + " is closed");
        }
        if (i.byteSize() == 0) {
            return MemorySegment.ofArray(new byte[0]).asReadOnly();
        }
        return data.asSlice(i.fileOffset() - header.dataOffset(), i.byteSize());
    }

    /**
     * Stored dtype of {@code name}.
     *
     * @throws UnsupportedOperationException if its GGUF type has no {@link DType} (see {@link #info})
     */
    @Override
    public DType dtype(String name) {
        GgufTensorInfo i = info(name);
        if (i.type().dtype() == null) {
            throw new UnsupportedOperationException(path.getFileName() + ": tensor '" + name + "' has GGUF type "
                    + i.type() + ", which has no Interlayer dtype");
        }
        return i.type().dtype();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    // ---- typed metadata access ----

    /** The raw value of {@code key}, or null. */
    public Object get(String key) {
        Object v = metadata.get(key);
        if (v instanceof Gguf.Deferred d) {
            try {
                return Gguf.readValueAt(path, d.typeAt(), key);
            } catch (IOException e) {
                throw new UncheckedIOException(path.getFileName() + ": metadata '" + key + "': reading it again failed"
                        + " (the file changed since it was opened?)", e);
            }
        }
        return v;
    }

    /** A string value, or null if absent. @throws IllegalArgumentException if present with another type */
    public String getString(String key) {
        return typed(key, null, "string", v -> v instanceof String s ? s : null);
    }

    /** An integer value of any integer type that fits in an int, or {@code dflt} if absent. */
    public int getInt(String key, int dflt) {
        return typed(key, dflt, "an integer fitting in 32 bits", v -> v instanceof Integer i ? i
                : v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE
                ? Integer.valueOf((int) (long) l) : null);
    }

    /**
     * A required integer hyperparameter ({@link #getInt(String, int)} without a default).
     *
     * @throws ModelFormatException naming the file and the key if the key is absent
     */
    public int requireInt(String key) throws ModelFormatException {
        if (get(key) == null) {
            throw new ModelFormatException(path, -1, "metadata '" + key + "'", "present", "absent");
        }
        return getInt(key, 0);
    }

    /**
     * {@code general.architecture}, which a family's config parser requires to be one of {@code allowed}.
     *
     * @throws ModelFormatException naming the file, the key, the allowed values and the found one
     */
    public String requireArchitecture(List<String> allowed) throws ModelFormatException {
        String arch = architecture();
        if (arch == null || !allowed.contains(arch)) {
            throw new ModelFormatException(path, -1, "metadata 'general.architecture'",
                    allowed.size() == 1 ? allowed.get(0) : "one of " + allowed, String.valueOf(arch));
        }
        return arch;
    }

    /** An integer value of any integer type, or {@code dflt} if absent. */
    public long getLong(String key, long dflt) {
        return typed(key, dflt, "an integer",
                v -> v instanceof Integer || v instanceof Long ? Long.valueOf(((Number) v).longValue()) : null);
    }

    /** A float32/float64 value (integers accepted), or {@code dflt} if absent. */
    public float getFloat(String key, float dflt) {
        return typed(key, dflt, "a number", v -> v instanceof Number n ? Float.valueOf(n.floatValue()) : null);
    }

    /** A boolean value, or {@code dflt} if absent. */
    public boolean getBoolean(String key, boolean dflt) {
        return typed(key, dflt, "a bool", v -> v instanceof Boolean b ? b : null);
    }

    /**
     * An array value of Java type {@code type} (e.g. {@code String[].class}, {@code float[].class}), or
     * null if absent. {@code int[]} requested from a {@code long[]} (uint32 arrays) is converted if every
     * value fits.
     */
    public <T> T getArray(String key, Class<T> type) {
        return typed(key, null, type.getSimpleName(), v -> type.isInstance(v) ? type.cast(v)
                : type == int[].class && v instanceof long[] l ? type.cast(ints(key, l)) : null);
    }

    // uint32 array values as ints. @throws IllegalArgumentException if one does not fit in 32 bits
    private int[] ints(String key, long[] l) {
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] < Integer.MIN_VALUE || l[i] > Integer.MAX_VALUE) {
                throw typeError(key, "int[] (values fitting in 32 bits)", l);
            }
            out[i] = (int) l[i];
        }
        return out;
    }

    // The one pattern of the typed getters: dflt when key is absent, else the value as convert reads it, where a
    // null from convert means the stored type does not fit (an IllegalArgumentException naming key, expected and
    // what was found).
    private <T> T typed(String key, T dflt, String expected, Function<Object, T> convert) {
        Object v = get(key);
        if (v == null) {
            return dflt;
        }
        T t = convert.apply(v);
        if (t == null) {
            throw typeError(key, expected, v);
        }
        return t;
    }

    private IllegalArgumentException typeError(String key, String expected, Object v) {
        return new IllegalArgumentException(path.getFileName() + ": metadata '" + key + "': expected " + expected
                + ", found " + describe(v));
    }

    /** A short description of a metadata value for messages and {@code inspect}: type and value or length. */
    public static String describe(Object v) {
        if (v instanceof String s) {
            return "string \"" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "\"";
        }
        if (v instanceof List<?> l) {
            return "array[" + l.size() + "] of arrays";
        }
        if (v != null && v.getClass().isArray()) {
            int n = java.lang.reflect.Array.getLength(v);
            String head = switch (v) {
                case int[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(4, n)));
                case long[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(4, n)));
                case float[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(4, n)));
                case double[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(4, n)));
                case boolean[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(4, n)));
                case String[] a -> Arrays.stream(a).limit(4).map(s -> "\"" + s + "\"")
                        .collect(Collectors.joining(", ", "[", "]"));
                default -> "";
            };
            if (n > 4) {
                head = head.substring(0, head.length() - 1) + ", …]";
            }
            return v.getClass().getComponentType().getSimpleName() + "[" + n + "] " + head;
        }
        return v == null ? "null" : v.getClass().getSimpleName() + " " + v;
    }

    @Override
    public String toString() {
        return "GgufFile(" + path.getFileName() + ", v" + header.version() + ", " + metadata.size() + " keys, "
                + tensors.size() + " tensors)";
    }
}
