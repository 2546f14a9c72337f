package dev.interlayer.models.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Minimal protobuf encoder for building test ONNX files (independent of the reader under test). */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(int field, long v) {
        key(field, 0);
        raw(v);
        return this;
    }

    ProtoWriter bytes(int field, byte[] b) {
        key(field, 2);
        raw(b.length);
        out.writeBytes(b);
        return this;
    }

    ProtoWriter string(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter m) {
        return bytes(field, m.toByteArray());
    }

    ProtoWriter fixed32(int field, int v) {
        key(field, 5);
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
        return this;
    }

    private void key(int field, int wire) {
        raw(((long) field << 3) | wire);
    }

    void raw(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    /** Little-endian float32 bytes. */
    static byte[] floats(float... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** A TensorProto: dims, data_type, name, raw_data. */
    static ProtoWriter tensor(String name, int dataType, long[] dims, byte[] raw) {
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, dataType).string(8, name);
        if (raw != null) {
            t.bytes(9, raw);
        }
        return t;
    }

    /** A NodeProto. */
    static ProtoWriter node(String name, String op, String[] in, String[] outs) {
        ProtoWriter n = new ProtoWriter();
        for (String s : in) {
            n.string(1, s);
        }
        for (String s : outs) {
            n.string(2, s);
        }
        return n.string(3, name).string(4, op);
    }

    /** A ModelProto (ir_version 7, opset 11) around {@code graph}. */
    static byte[] model(ProtoWriter graph) {
        return new ProtoWriter().varint(1, 7).message(8, new ProtoWriter().string(1, "").varint(2, 11))
                .message(7, graph).toByteArray();
    }
}
