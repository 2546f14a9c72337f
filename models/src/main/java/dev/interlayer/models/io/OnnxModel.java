package dev.interlayer.models.io;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
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
 * An ONNX model file, memory-mapped and parsed with our own protobuf reader (no ONNX Runtime): the
 * graph's nodes (op type, name, inputs, outputs, attributes) and its initializers, whose data stay
 * in the mapping. {@code raw_data} and packed {@code float_data} are little-endian element arrays
 * in the file, so {@link #tensor(String)} returns a read-only view at their byte offset, not a copy.
 *
 * <p>Schema subset read (field numbers from onnx.proto3): ModelProto {ir_version 1, graph 7,
 * opset_import 8}; GraphProto {node 1, initializer 5, input 11, output 12}; NodeProto {input 1,
 * output 2, name 3, op_type 4, attribute 5}; AttributeProto {name 1, f 2, i 3, t 5, ints 8};
 * TensorProto {dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
 * data_location 14}. Other fields are skipped.
 */
public final class OnnxModel implements AutoCloseable {
    /** ONNX TensorProto.DataType ids and element sizes in bytes (0 = no fixed size). */
    private static final int[] ELEMENT_BYTES = {0, 4, 1, 1, 2, 2, 4, 8, 0, 1, 2, 8, 4, 8, 8, 16, 2};
    private static final String[] TYPE_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
        "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    private static final int MAX_RANK = 64;

    /**
     * A tensor described by a TensorProto. Data is either at file bytes [offset, offset + length)
     * in little-endian element order, or decoded into {@code values} (int32_data / int64_data /
     * unpacked float_data, which protobuf stores as varints or one tag per value).
     */
    public record TensorInfo(String name, int dataType, long[] dims, long offset, long length, double[] values) {
        /** Number of elements. */
        public long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }

        /** ONNX type name, e.g. FLOAT. */
        public String typeName() {
            return dataType >= 0 && dataType < TYPE_NAMES.length ? TYPE_NAMES[dataType] : "type " + dataType;
        }

        @Override
        public String toString() {
            return name + " " + typeName() + Arrays.toString(dims);
        }
    }

    /** An attribute of a node (only the scalar, ints and tensor forms are kept). */
    public record Attribute(String name, float f, long i, long[] ints, TensorInfo t) {
    }

    /** A graph node. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final long irVersion;
    private final Map<String, Long> opsets;
    private final List<Node> nodes;
    private final Map<String, TensorInfo> initializers;
    private final List<String> inputs, outputs;

    private OnnxModel(Path file, Arena arena, MemorySegment mapped, long irVersion, Map<String, Long> opsets,
                      List<Node> nodes, Map<String, TensorInfo> initializers, List<String> inputs,
                      List<String> outputs) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.irVersion = irVersion;
        this.opsets = opsets;
        this.nodes = nodes;
        this.initializers = initializers;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /**
     * Maps and parses {@code path}. Every length, dimension and data range is checked against the
     * file before use.
     *
     * @throws ModelFormatException if the file is not a well-formed ONNX model with a graph
     */
    public static OnnxModel open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            OnnxModel m = parse(path, seg, arena);
            return m;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static OnnxModel parse(Path path, MemorySegment seg, Arena arena) throws ModelFormatException {
        if (seg.byteSize() == 0) {
            throw new ModelFormatException(path, 0, "ModelProto", "a non-empty file", "0 bytes");
        }
        ProtobufReader r = new ProtobufReader(path, seg, 0, seg.byteSize());
        long ir = -1;
        Map<String, Long> opsets = new LinkedHashMap<>();
        ProtobufReader graph = null;
        long graphAt = -1;
        while (r.hasNext()) {
            r.nextField("ModelProto");
            switch (r.fieldNumber()) {
                case 1 -> {
                    r.expectWireType(ProtobufReader.VARINT, "ModelProto.ir_version");
                    ir = r.readVarint("ModelProto.ir_version");
                }
                case 7 -> {
                    r.expectWireType(ProtobufReader.LEN, "ModelProto.graph");
                    graphAt = r.fieldStart();
                    graph = r.readMessage("ModelProto.graph");
                }
                case 8 -> {
                    r.expectWireType(ProtobufReader.LEN, "ModelProto.opset_import");
                    ProtobufReader o = r.readMessage("ModelProto.opset_import");
                    String domain = "";
                    long version = -1;
                    while (o.hasNext()) {
                        o.nextField("OperatorSetIdProto");
                        if (o.fieldNumber() == 1 && o.wireType() == ProtobufReader.LEN) {
                            domain = o.readString("OperatorSetIdProto.domain");
                        } else if (o.fieldNumber() == 2 && o.wireType() == ProtobufReader.VARINT) {
                            version = o.readVarint("OperatorSetIdProto.version");
                        } else {
                            o.skip();
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip();
            }
        }
        if (ir < 0) {
            throw new ModelFormatException(path, 0, "ModelProto.ir_version", "field 1 (an ONNX model)",
                    "no ir_version; not an ONNX file?");
        }
        if (graph == null) {
            throw new ModelFormatException(path, 0, "ModelProto.graph", "field 7", "no graph");
        }
        List<Node> nodes = new ArrayList<>();
        Map<String, TensorInfo> inits = new LinkedHashMap<>();
        List<String> ins = new ArrayList<>(), outs = new ArrayList<>();
        while (graph.hasNext()) {
            graph.nextField("GraphProto");
            switch (graph.fieldNumber()) {
                case 1 -> {
                    graph.expectWireType(ProtobufReader.LEN, "GraphProto.node");
                    nodes.add(readNode(graph.readMessage("GraphProto.node")));
                }
                case 5 -> {
                    graph.expectWireType(ProtobufReader.LEN, "GraphProto.initializer");
                    long at = graph.fieldStart();
                    TensorInfo t = readTensor(graph.readMessage("GraphProto.initializer"));
                    if (inits.putIfAbsent(t.name(), t) != null) {
                        throw new ModelFormatException(path, at, "GraphProto.initializer", "unique names",
                                "duplicate '" + t.name() + "'");
                    }
                }
                case 11, 12 -> {
                    graph.expectWireType(ProtobufReader.LEN, "GraphProto.input/output");
                    int fn = graph.fieldNumber();
                    ProtobufReader v = graph.readMessage("ValueInfoProto");
                    String name = "";
                    while (v.hasNext()) {
                        v.nextField("ValueInfoProto");
                        if (v.fieldNumber() == 1 && v.wireType() == ProtobufReader.LEN) {
                            name = v.readString("ValueInfoProto.name");
                        } else {
                            v.skip();
                        }
                    }
                    (fn == 11 ? ins : outs).add(name);
                }
                default -> graph.skip();
            }
        }
        assert graphAt >= 0;
        return new OnnxModel(path, arena, seg, ir, Collections.unmodifiableMap(opsets), List.copyOf(nodes),
                Collections.unmodifiableMap(inits), List.copyOf(ins), List.copyOf(outs));
    }

    private static Node readNode(ProtobufReader n) throws ModelFormatException {
        String name = "", op = "";
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (n.hasNext()) {
            n.nextField("NodeProto");
            int f = n.fieldNumber();
            if (n.wireType() != ProtobufReader.LEN) {
                n.skip();
                continue;
            }
            switch (f) {
                case 1 -> in.add(n.readString("NodeProto.input"));
                case 2 -> out.add(n.readString("NodeProto.output"));
                case 3 -> name = n.readString("NodeProto.name");
                case 4 -> op = n.readString("NodeProto.op_type");
                case 5 -> {
                    Attribute a = readAttribute(n.readMessage("NodeProto.attribute"));
                    attrs.put(a.name(), a);
                }
                default -> n.skip();
            }
        }
        return new Node(name, op, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(attrs));
    }

    private static Attribute readAttribute(ProtobufReader a) throws ModelFormatException {
        String name = "";
        float f = 0;
        long i = 0;
        List<Long> ints = new ArrayList<>();
        TensorInfo t = null;
        while (a.hasNext()) {
            a.nextField("AttributeProto");
            int fn = a.fieldNumber(), wt = a.wireType();
            if (fn == 1 && wt == ProtobufReader.LEN) {
                name = a.readString("AttributeProto.name");
            } else if (fn == 2 && wt == ProtobufReader.FIXED32) {
                f = Float.intBitsToFloat(a.readFixed32("AttributeProto.f"));
            } else if (fn == 3 && wt == ProtobufReader.VARINT) {
                i = a.readVarint("AttributeProto.i");
            } else if (fn == 5 && wt == ProtobufReader.LEN) {
                t = readTensor(a.readMessage("AttributeProto.t"));
            } else if (fn == 8 && wt == ProtobufReader.VARINT) {
                ints.add(a.readVarint("AttributeProto.ints"));
            } else if (fn == 8 && wt == ProtobufReader.LEN) {
                ProtobufReader p = a.readMessage("AttributeProto.ints");
                while (p.hasNext()) {
                    ints.add(p.readVarint("AttributeProto.ints"));
                }
            } else {
                a.skip();
            }
        }
        return new Attribute(name, f, i, ints.stream().mapToLong(Long::longValue).toArray(), t);
    }

    /**
     * Reads a TensorProto and validates it: known data type, 0 <= dims, element count without
     * overflow, and data bytes == elements × element size.
     */
    private static TensorInfo readTensor(ProtobufReader t) throws ModelFormatException {
        long start = t.position();
        String name = "";
        int type = 0;
        List<Long> dims = new ArrayList<>();
        long off = -1, len = -1;
        List<Double> values = null;
        int location = 0;
        while (t.hasNext()) {
            t.nextField("TensorProto");
            int fn = t.fieldNumber(), wt = t.wireType();
            switch (fn) {
                case 1 -> {
                    if (wt == ProtobufReader.LEN) {
                        ProtobufReader p = t.readMessage("TensorProto.dims");
                        while (p.hasNext()) {
                            dims.add(p.readVarint("TensorProto.dims"));
                            checkRank(t, dims, start);
                        }
                    } else {
                        t.expectWireType(ProtobufReader.VARINT, "TensorProto.dims");
                        dims.add(t.readVarint("TensorProto.dims"));
                        checkRank(t, dims, start);
                    }
                }
                case 2 -> {
                    t.expectWireType(ProtobufReader.VARINT, "TensorProto.data_type");
                    long at = t.position();
                    long v = t.readVarint("TensorProto.data_type");
                    if (v < 1 || v >= ELEMENT_BYTES.length) {
                        throw t.error(at, "TensorProto.data_type", "an ONNX data type id in [1, 16]",
                                Long.toString(v));
                    }
                    type = (int) v;
                }
                case 8 -> {
                    t.expectWireType(ProtobufReader.LEN, "TensorProto.name");
                    name = t.readString("TensorProto.name");
                }
                case 9, 4 -> {
                    if (fn == 4 && wt == ProtobufReader.FIXED32) {     // unpacked float_data
                        values = values == null ? new ArrayList<>() : values;
                        values.add((double) Float.intBitsToFloat(t.readFixed32("TensorProto.float_data")));
                    } else {
                        t.expectWireType(ProtobufReader.LEN, fn == 9 ? "TensorProto.raw_data" : "TensorProto.float_data");
                        long[] r = t.readBytesRange(fn == 9 ? "TensorProto.raw_data" : "TensorProto.float_data");
                        off = r[0];
                        len = r[1] - r[0];
                    }
                }
                case 5, 7 -> {     // int32_data / int64_data: varints, packed or not
                    values = values == null ? new ArrayList<>() : values;
                    String f = fn == 5 ? "TensorProto.int32_data" : "TensorProto.int64_data";
                    if (wt == ProtobufReader.LEN) {
                        ProtobufReader p = t.readMessage(f);
                        while (p.hasNext()) {
                            long v = p.readVarint(f);
                            values.add((double) (fn == 5 ? (int) v : v));
                        }
                    } else {
                        t.expectWireType(ProtobufReader.VARINT, f);
                        long v = t.readVarint(f);
                        values.add((double) (fn == 5 ? (int) v : v));
                    }
                }
                case 14 -> {
                    t.expectWireType(ProtobufReader.VARINT, "TensorProto.data_location");
                    location = (int) t.readVarint("TensorProto.data_location");
                }
                default -> t.skip();
            }
        }
        String what = "tensor '" + name + "'";
        if (location != 0) {
            throw t.error(start, what + " data_location", "0 (data inside the file)",
                    location + " (external data files are not supported)");
        }
        if (type == 0) {
            throw t.error(start, what + " data_type", "a data type", "none");
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long x : d) {
            if (x < 0 || x > Integer.MAX_VALUE) {
                throw t.error(start, what + " dims", "each in [0, " + Integer.MAX_VALUE + "]", Arrays.toString(d));
            }
            try {
                n = Math.multiplyExact(n, x);
            } catch (ArithmeticException e) {
                throw t.error(start, what + " dims", "an element count below 2^63", Arrays.toString(d) + " overflows");
            }
        }
        int esize = ELEMENT_BYTES[type];
        if (off >= 0 && values != null) {
            throw t.error(start, what, "one data field", "raw_data/float_data and int data together");
        }
        if (off >= 0 && esize > 0) {
            long need;
            try {
                need = Math.multiplyExact(n, (long) esize);
            } catch (ArithmeticException e) {
                throw t.error(start, what + " dims", "a byte size below 2^63", Arrays.toString(d) + " overflows");
            }
            if (need != len) {
                throw t.error(off, what + " data", need + " bytes (" + TYPE_NAMES[type] + Arrays.toString(d) + ")",
                        len + " bytes");
            }
        }
        if (values != null && values.size() != n) {
            throw t.error(start, what + " data", n + " values for dims " + Arrays.toString(d), values.size() + " values");
        }
        if (off < 0 && values == null && n != 0) {
            throw t.error(start, what + " data", "raw_data, float_data, int32_data or int64_data", "no data");
        }
        double[] vals = values == null ? null : values.stream().mapToDouble(Double::doubleValue).toArray();
        return new TensorInfo(name, type, d, off, len, vals);
    }

    private static void checkRank(ProtobufReader t, List<Long> dims, long start) throws ModelFormatException {
        if (dims.size() > MAX_RANK) {
            throw t.error(start, "TensorProto.dims", "at most " + MAX_RANK + " dims", "more");
        }
    }

    // ---- queries ----

    /** The file. */
    public Path file() {
        return file;
    }

    /** ModelProto.ir_version. */
    public long irVersion() {
        return irVersion;
    }

    /** Opset version per domain ("" = the default ONNX domain). */
    public Map<String, Long> opsets() {
        return opsets;
    }

    /** Nodes in file (topological) order. */
    public List<Node> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, TensorInfo> initializers() {
        return initializers;
    }

    /** Graph input names (in some exports this list also holds the initializers). */
    public List<String> inputs() {
        return inputs;
    }

    /** Graph output names. */
    public List<String> outputs() {
        return outputs;
    }

    /**
     * The initializer {@code name} as a tensor: a read-only view of the mapping for raw_data and
     * packed float_data; a small heap tensor for data stored as varints.
     *
     * @throws IllegalArgumentException if absent (listing the closest names)
     * @throws IllegalArgumentException for ONNX types without a {@link DType} (e.g. DOUBLE, STRING)
     */
    public Tensor tensor(String name) {
        TensorInfo t = initializers.get(name);
        if (t == null) {
            throw new IllegalArgumentException(file.getFileName() + ": no initializer '" + name + "'; closest: "
                    + WeightSource.closest(initializers.keySet(), name, 5));
        }
        return toTensor(t);
    }

    /** A tensor for {@code t}, which may also come from a Constant node's attribute. */
    public Tensor toTensor(TensorInfo t) {
        DType dt = dtype(t);
        Shape shape = Shape.ofLong(t.dims());
        if (t.values() != null) {
            double[] v = t.values();
            // Integers go straight to their type: through float they would round above 2^24 (INT_MAX → 2^31).
            if (dt == DType.I64) {
                return Tensor.of(dt, shape, MemorySegment.ofArray(Arrays.stream(v).mapToLong(x -> (long) x).toArray()));
            }
            if (dt == DType.I32) {
                return Tensor.of(dt, shape, MemorySegment.ofArray(Arrays.stream(v).mapToInt(x -> (int) x).toArray()));
            }
            Tensor out = Tensor.zeros(dt, shape);
            for (int i = 0; i < v.length; i++) {
                out.writeFloat(i, (float) v[i]);
            }
            return out;
        }
        if (t.length() <= 0) {
            return Tensor.zeros(dt, shape);
        }
        return Tensor.of(dt, shape, mapped.asSlice(t.offset(), t.length()));
    }

    /** The {@link DType} of an ONNX tensor. */
    public static DType dtype(TensorInfo t) {
        return switch (t.dataType()) {
            case 1 -> DType.F32;
            case 10 -> DType.F16;
            case 16 -> DType.BF16;
            case 6 -> DType.I32;
            case 7 -> DType.I64;
            case 3 -> DType.I8;
            default -> throw new IllegalArgumentException("ONNX tensor '" + t.name() + "' has type " + t.typeName()
                    + "; supported: FLOAT, FLOAT16, BFLOAT16, INT32, INT64, INT8");
        };
    }

    /** Unmaps the file; tensors from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
