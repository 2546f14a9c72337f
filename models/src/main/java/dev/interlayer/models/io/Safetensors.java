package dev.interlayer.models.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Hugging Face safetensors weights, memory-mapped: one file, or a sharded checkpoint described by
 * {@code model.safetensors.index.json}.
 *
 * <p>File layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the data; offsets are relative to the data start. Before anything is mapped into a tensor
 * the reader checks: N fits in the file (and is at most 100 MB), the header is UTF-8 and parses,
 * names are unique, each dtype is known, dims are non-negative without overflow, each range has
 * exactly elements × dtype size bytes, lies inside the data and overlaps no other range.
 *
 * <p>Buffers that are not weights ({@code *.position_ids}, GPT-2's {@code attn.bias} /
 * {@code attn.masked_bias} causal masks) are validated but not listed in {@link #names()}.
 * F32, F16 and BF16 (and I64/I32/I8) tensors can be read; other dtypes are listed but
 * {@link #tensor} rejects them.
 */
public final class Safetensors implements WeightSource {
    /** Same cap as the reference Rust implementation: a larger header is a corrupt length. */
    static final long MAX_HEADER = 100_000_000L;
    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("F64", 8), Map.entry("F32", 4), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I64", 8), Map.entry("I32", 4), Map.entry("I16", 2), Map.entry("I8", 1),
            Map.entry("U64", 8), Map.entry("U32", 4), Map.entry("U16", 2), Map.entry("U8", 1),
            Map.entry("BOOL", 1), Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1));

    /** One tensor: its file, stored dtype name, shape and data. */
    private record Entry(Path file, String dtype, Shape shape, MemorySegment data) {
    }

    private final Map<String, Entry> entries;     // listed weights
    private final List<Arena> arenas;
    private final Map<String, String> metadata;

    private Safetensors(Map<String, Entry> entries, List<Arena> arenas, Map<String, String> metadata) {
        this.entries = entries;
        this.arenas = arenas;
        this.metadata = metadata;
    }

    /**
     * Opens a {@code .safetensors} file, or a sharded checkpoint when {@code path} is an
     * {@code *.index.json} file.
     *
     * @throws ModelFormatException naming the file, byte offset and field when the file is corrupt
     */
    public static Safetensors open(Path path) throws IOException {
        if (path.getFileName().toString().endsWith(".index.json")) {
            return openSharded(path);
        }
        Arena arena = Arena.ofShared();
        try {
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> meta = readFile(path, arena, entries);
            return new Safetensors(Collections.unmodifiableMap(entries), List.of(arena), meta);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Safetensors openSharded(Path index) throws IOException {
        JsonObject json = parseJsonFile(index);
        JsonElement wm = json.get("weight_map");
        if (wm == null || !wm.isJsonObject()) {
            throw new ModelFormatException(index, -1, "weight_map", "an object {tensor name: shard file}",
                    wm == null ? "none" : wm.toString());
        }
        Map<String, List<String>> byShard = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : wm.getAsJsonObject().entrySet()) {
            if (!e.getValue().isJsonPrimitive()) {
                throw new ModelFormatException(index, -1, "weight_map['" + e.getKey() + "']", "a file name",
                        e.getValue().toString());
            }
            byShard.computeIfAbsent(e.getValue().getAsString(), k -> new ArrayList<>()).add(e.getKey());
        }
        Path dir = index.toAbsolutePath().getParent();
        List<Arena> arenas = new ArrayList<>();
        Map<String, Entry> all = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, List<String>> shard : byShard.entrySet()) {
                Path file = dir.resolve(shard.getKey()).normalize();
                if (!file.startsWith(dir)) {
                    throw new ModelFormatException(index, -1, "weight_map shard '" + shard.getKey() + "'",
                            "a file inside " + dir, "a path leaving it");
                }
                Arena arena = Arena.ofShared();
                arenas.add(arena);
                Map<String, Entry> entries = new LinkedHashMap<>();
                readFile(file, arena, entries);
                for (String name : shard.getValue()) {
                    if (!entries.containsKey(name)) {
                        throw new ModelFormatException(file, 8, "tensor '" + name + "'",
                                "present (index.json maps it to this shard)", "absent; closest: "
                                + WeightSource.closest(entries.keySet(), name, 3));
                    }
                }
                for (Map.Entry<String, Entry> e : entries.entrySet()) {
                    Entry prev = all.putIfAbsent(e.getKey(), e.getValue());
                    if (prev != null) {
                        throw new ModelFormatException(file, 8, "tensor '" + e.getKey() + "'", "in one shard",
                                "also in " + prev.file().getFileName());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            arenas.forEach(Arena::close);
            throw e;
        }
        return new Safetensors(Collections.unmodifiableMap(all), List.copyOf(arenas), Map.of());
    }

    /** Validates one file, maps it and adds its listed tensors to {@code out}; returns __metadata__. */
    private static Map<String, String> readFile(Path path, Arena arena, Map<String, Entry> out) throws IOException {
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ModelFormatException(path, 0, "header length", "8 bytes", size + " bytes in the file");
            }
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
        long size = seg.byteSize();
        long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        if (n < 2 || n > size - 8 || n > MAX_HEADER) {
            throw new ModelFormatException(path, 0, "header length",
                    "2 .. min(" + (size - 8) + " (file size - 8), " + MAX_HEADER + ")", Long.toUnsignedString(n));
        }
        String header = decodeUtf8(path, seg.asSlice(8, n), 8);
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        Map<String, String> meta = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();       // {begin, end, index}
        List<String> order = new ArrayList<>();
        Map<String, Entry> local = new LinkedHashMap<>();
        try (JsonReader r = new JsonReader(new StringReader(header))) {
            r.setStrictness(com.google.gson.Strictness.STRICT);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new ModelFormatException(path, 8, "header", "a JSON object", r.peek().toString());
            }
            r.beginObject();
            Set<String> seen = new HashSet<>();
            while (r.hasNext()) {
                String name = r.nextName();
                if (!seen.add(name)) {
                    throw new ModelFormatException(path, 8, "header key '" + name + "'", "unique tensor names",
                            "a duplicate");
                }
                if (name.equals("__metadata__")) {
                    JsonElement m = JsonParser.parseReader(r);
                    if (m.isJsonObject()) {
                        for (Map.Entry<String, JsonElement> e : m.getAsJsonObject().entrySet()) {
                            meta.put(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString()
                                    : e.getValue().toString());
                        }
                    }
                    continue;
                }
                JsonElement v = JsonParser.parseReader(r);
                Entry e = entry(path, name, v, seg, dataStart, dataSize, ranges, order.size());
                order.add(name);
                local.put(name, e);
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new ModelFormatException(path, 8, "header", "one JSON object", "trailing data");
            }
        } catch (MalformedJsonException | JsonParseException | IllegalStateException e) {
            throw new ModelFormatException(path, 8, "header JSON", "valid JSON (" + n + " bytes)",
                    String.valueOf(e.getMessage()), e);
        } catch (java.io.EOFException e) {
            throw new ModelFormatException(path, 8, "header JSON", "a complete JSON object (" + n + " bytes)",
                    "end of header", e);
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] prev = ranges.get(i - 1), cur = ranges.get(i);
            if (cur[0] < prev[1] && cur[1] > cur[0]) {
                throw new ModelFormatException(path, dataStart + cur[0],
                        "tensor '" + order.get((int) cur[2]) + "' data_offsets",
                        "no overlap with '" + order.get((int) prev[2]) + "' ending at " + prev[1],
                        "[" + cur[0] + ", " + cur[1] + ")");
            }
        }
        for (Map.Entry<String, Entry> e : local.entrySet()) {
            if (!isBuffer(e.getKey())) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return Collections.unmodifiableMap(meta);
    }

    private static Entry entry(Path path, String name, JsonElement v, MemorySegment seg, long dataStart, long dataSize,
                               List<long[]> ranges, int index) throws ModelFormatException {
        String what = "tensor '" + name + "'";
        if (!v.isJsonObject()) {
            throw new ModelFormatException(path, 8, what, "an object {dtype, shape, data_offsets}", v.toString());
        }
        JsonObject o = v.getAsJsonObject();
        JsonElement dt = o.get("dtype");
        if (dt == null || !dt.isJsonPrimitive() || !DTYPE_BYTES.containsKey(dt.getAsString())) {
            throw new ModelFormatException(path, 8, what + " dtype", "one of " + new TreeMap<>(DTYPE_BYTES).keySet(),
                    String.valueOf(dt));
        }
        String dtype = dt.getAsString();
        long[] dims = longs(path, what + " shape", o.get("shape"), -1);
        long[] off = longs(path, what + " data_offsets", o.get("data_offsets"), 2);
        long count = 1;
        for (long d : dims) {
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelFormatException(path, 8, what + " shape", "dims in [0, 2^31)", Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(path, 8, what + " shape", "an element count below 2^63",
                        Arrays.toString(dims) + " overflows");
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(count, (long) DTYPE_BYTES.get(dtype));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, 8, what + " shape", "a byte size below 2^63",
                    Arrays.toString(dims) + " overflows");
        }
        if (off[0] < 0 || off[1] < off[0]) {
            throw new ModelFormatException(path, 8, what + " data_offsets", "0 <= begin <= end", Arrays.toString(off));
        }
        if (off[1] - off[0] != bytes) {
            throw new ModelFormatException(path, dataStart + off[0], what + " data_offsets",
                    bytes + " bytes (" + dtype + Arrays.toString(dims) + ")", (off[1] - off[0]) + " bytes");
        }
        if (off[1] > dataSize) {
            throw new ModelFormatException(path, dataStart + off[0], what + " data",
                    "end <= " + dataSize + " (data size)", "end " + off[1]);
        }
        ranges.add(new long[] {off[0], off[1], index});
        return new Entry(path, dtype, Shape.ofLong(dims), seg.asSlice(dataStart + off[0], bytes));
    }

    private static long[] longs(Path path, String field, JsonElement e, int len) throws ModelFormatException {
        if (e == null || !e.isJsonArray() || (len >= 0 && e.getAsJsonArray().size() != len)
                || e.getAsJsonArray().size() > 64) {
            throw new ModelFormatException(path, 8, field, len >= 0 ? "an array of " + len + " integers"
                    : "an array of at most 64 integers", String.valueOf(e));
        }
        long[] out = new long[e.getAsJsonArray().size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement x = e.getAsJsonArray().get(i);
            try {
                if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                    throw new NumberFormatException();
                }
                out[i] = new java.math.BigDecimal(x.getAsString()).longValueExact();
            } catch (NumberFormatException | ArithmeticException ex) {
                throw new ModelFormatException(path, 8, field, "integers below 2^63", e.toString());
            }
        }
        return out;
    }

    /** Decodes strict UTF-8, reporting the file offset of the first malformed byte. */
    static String decodeUtf8(Path path, MemorySegment bytes, long fileOffset) throws ModelFormatException {
        ByteBuffer in = bytes.asByteBuffer();
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate((int) bytes.byteSize());
        CoderResult res = dec.decode(in, out, true);
        if (res.isError()) {
            throw new ModelFormatException(path, fileOffset + in.position(), "header", "UTF-8 text",
                    "malformed byte sequence of length " + res.length());
        }
        dec.flush(out);
        return out.flip().toString();
    }

    /**
     * A JSON object file (config.json, tokenizer_config.json) read as strict UTF-8.
     *
     * @throws ModelFormatException naming the file if it is not UTF-8, not JSON or not an object
     */
    public static JsonObject parseJsonFile(Path path) throws IOException {
        byte[] raw = Files.readAllBytes(path);
        String text = decodeUtf8(path, MemorySegment.ofArray(raw), 0);
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) {
                throw new ModelFormatException(path, 0, "JSON", "an object", e.toString().substring(0,
                        Math.min(40, e.toString().length())));
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ModelFormatException(path, 0, "JSON", "valid JSON", String.valueOf(e.getMessage()), e);
        }
    }

    /** True for non-weight buffers that exporters save: position ids and causal masks. */
    static boolean isBuffer(String name) {
        return name.endsWith("position_ids") || name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias");
    }

    /** The {@code __metadata__} strings of a single file (empty for sharded checkpoints). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    /** The stored dtype name, e.g. F32 or I64. */
    public String storedDtype(String name) {
        return require(name).dtype();
    }

    @Override
    public Tensor tensor(String name) {
        Entry e = require(name);
        return Tensor.of(toDType(name, e.dtype()), e.shape(), e.data());
    }

    @Override
    public DType dtype(String name) {
        return toDType(name, require(name).dtype());
    }

    private static DType toDType(String name, String dtype) {
        return switch (dtype) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I8" -> DType.I8;
            default -> throw new IllegalArgumentException("safetensors tensor '" + name + "' has dtype " + dtype
                    + "; readable: F32, F16, BF16, I64, I32, I8");
        };
    }

    private Entry require(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("safetensors: no tensor '" + name + "'; closest: "
                    + WeightSource.closest(entries.keySet(), name, 5));
        }
        return e;
    }

    @Override
    public void close() {
        arenas.forEach(Arena::close);
    }
}
