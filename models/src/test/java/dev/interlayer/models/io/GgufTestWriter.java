package dev.interlayer.models.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes small GGUF files for tests, written from the format description (not from the reader),
 * and records the byte offset of every field by name so corrupt-file tests can patch exactly one.
 */
final class GgufTestWriter {
    /** GGUF metadata value types ({@code gguf_metadata_value_type}): a key's type, or an array's element type. */
    static final int UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
            STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Map<String, Integer> at = new LinkedHashMap<>();
    private final List<byte[]> tensorData = new ArrayList<>();
    private final List<Integer> tensorOffsetFields = new ArrayList<>();
    private int alignment = 32;

    GgufTestWriter header(int version, long tensors, long kvs) {
        mark("magic");
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        mark("version");
        u32(version);
        mark("tensor_count");
        u64(tensors);
        mark("kv_count");
        u64(kvs);
        return this;
    }

    void mark(String field) {
        at.put(field, out.size());
    }

    void u8(int v) {
        out.write(v);
    }

    void u16(int v) {
        out.writeBytes(le(2).putShort((short) v).array());
    }

    void u32(long v) {
        out.writeBytes(le(4).putInt((int) v).array());
    }

    void u64(long v) {
        out.writeBytes(le(8).putLong(v).array());
    }

    void f32(float v) {
        out.writeBytes(le(4).putFloat(v).array());
    }

    void f64(double v) {
        out.writeBytes(le(8).putDouble(v).array());
    }

    void str(String s) {
        str(s.getBytes(StandardCharsets.UTF_8));
    }

    void str(byte[] b) {
        u64(b.length);
        out.writeBytes(b);
    }

    /** key + value type; the caller writes the value. */
    void key(String key, int type) {
        mark("key:" + key);
        str(key);
        mark("type:" + key);
        u32(type);
        mark("value:" + key);
    }

    /**
     * One metadata entry: the key, its value {@code type} and {@code value} in that type's little-endian bytes (a
     * Number for the numeric types, whose signed ones take the value's low bits; a Boolean for BOOL; a String).
     */
    GgufTestWriter kv(String key, int type, Object value) {
        key(key, type);
        switch (type) {
            case UINT8, INT8 -> u8(((Number) value).intValue());
            case UINT16, INT16 -> u16(((Number) value).intValue());
            case UINT32, INT32 -> u32(((Number) value).longValue());
            case UINT64, INT64 -> u64(((Number) value).longValue());
            case FLOAT32 -> f32(((Number) value).floatValue());
            case FLOAT64 -> f64(((Number) value).doubleValue());
            case BOOL -> u8((Boolean) value ? 1 : 0);
            case STRING -> str((String) value);
            default -> throw new IllegalArgumentException("kv '" + key + "': type " + type + " is not a scalar type"
                    + " (an array is written with array())");
        }
        return this;
    }

    /** Key, ARRAY and the element type; the caller writes the count (u64) and the elements. */
    GgufTestWriter array(String key, int elementType) {
        key(key, ARRAY);
        u32(elementType);
        return this;
    }

    GgufTestWriter alignment(int a) {
        kv("general.alignment", UINT32, a);
        alignment = a;
        return this;
    }

    /** A tensor info; {@code ne} innermost-first as stored; data appended in order, each aligned. */
    GgufTestWriter tensor(String name, int type, long[] ne, byte[] data) {
        mark("tensor:" + name);
        str(name);
        mark("ndims:" + name);
        u32(ne.length);
        for (int i = 0; i < ne.length; i++) {
            mark("ne" + i + ":" + name);
            u64(ne[i]);
        }
        mark("ttype:" + name);
        u32(type);
        mark("offset:" + name);
        tensorOffsetFields.add(out.size());
        u64(0);   // patched in finish()
        tensorData.add(data);
        return this;
    }

    byte[] finish() {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        int dataStart = out.size();
        at.put("data", dataStart);
        byte[] head = out.toByteArray();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(head);
        long rel = 0;
        for (int i = 0; i < tensorData.size(); i++) {
            while ((all.size() - dataStart) % alignment != 0) {
                all.write(0);
            }
            rel = all.size() - dataStart;
            byte[] bytes = all.toByteArray();
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(tensorOffsetFields.get(i), rel);
            all.reset();
            all.writeBytes(bytes);
            all.writeBytes(tensorData.get(i));
        }
        return all.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] f32Bytes(float... v) {
        ByteBuffer b = le(4 * v.length);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    static byte[] f16Bytes(float... v) {
        ByteBuffer b = le(2 * v.length);
        for (float x : v) {
            b.putShort(Float.floatToFloat16(x));
        }
        return b.array();
    }
}
