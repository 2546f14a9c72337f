package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Our ONNX reader on small hand-built models: naming, zero-copy views, and one test per corruption rule. */
class OnnxModelTest extends ReaderFileTest {
    OnnxModelTest() {
        super("bad.onnx", OnnxModel::open);
    }

    /** A graph y = x · W (W stored [in=2, out=3] as an anonymous initializer) + named bias b. */
    static ProtoWriter linearGraph() {
        float[] w = {1, 2, 3, 4, 5, 6};
        return new ProtoWriter()
                .message(1, ProtoWriter.node("/encoder/dense/MatMul", "MatMul", new String[] {"x", "onnx::MatMul_7"},
                        new String[] {"m"}))
                .message(1, ProtoWriter.node("/encoder/dense/Add", "Add", new String[] {"encoder.dense.bias", "m"},
                        new String[] {"y"}))
                .message(5, ProtoWriter.tensor("onnx::MatMul_7", 1, new long[] {2, 3}, ProtoWriter.floats(w)))
                .message(5, ProtoWriter.tensor("encoder.dense.bias", 1, new long[] {3}, ProtoWriter.floats(7, 8, 9)))
                .message(11, new ProtoWriter().string(1, "x"))
                .message(12, new ProtoWriter().string(1, "y"));
    }

    @Test
    void readsGraphAndNamesMatMulWeightsFromTheirNode() throws Exception {
        Path p = write("m.onnx", ProtoWriter.model(linearGraph()));
        try (OnnxWeights w = OnnxWeights.open(p)) {
            assertEquals(java.util.Set.of("encoder.dense.weight", "encoder.dense.bias"), w.names());
            assertEquals("onnx::MatMul_7", w.onnxName("encoder.dense.weight"));
            Tensor t = w.tensor("encoder.dense.weight");
            // nn.Linear layout [out, in]: element [o, i] = stored [i, o]
            assertEquals(Shape.of(3, 2), t.shape());
            assertEquals(2f, t.getFloat(1, 0));
            assertEquals(4f, t.getFloat(0, 1));
            assertTrue(t.isReadOnly(), "weights are views of the read-only mapping");
            assertArrayEquals(new float[] {7, 8, 9}, w.tensor("encoder.dense.bias").toFloatArray());
            assertEquals(2, w.model().nodes().size());
            assertEquals(java.util.List.of("x"), w.model().inputs());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> w.tensor("encoder.dense.weights"));
            assertTrue(e.getMessage().contains("encoder.dense.weight"), e.getMessage());
        }
    }

    @Test
    void rawDataIsAViewAtItsFileOffset() throws Exception {
        byte[] file = ProtoWriter.model(linearGraph());
        Path p = write("m.onnx", file);
        try (OnnxModel m = OnnxModel.open(p)) {
            OnnxModel.TensorInfo info = m.initializers().get("encoder.dense.bias");
            byte[] expect = ProtoWriter.floats(7, 8, 9);
            assertArrayEquals(expect, Arrays.copyOfRange(file, (int) info.offset(), (int) info.offset() + 12));
            assertEquals(info.offset(), m.tensor("encoder.dense.bias").segment().address()
                    - m.tensor("onnx::MatMul_7").segment().address() + m.initializers().get("onnx::MatMul_7").offset());
        }
    }

    @Test
    void emptyFile() throws IOException {
        ModelFormatException e = corrupt(new byte[0]);
        assertTrue(e.getMessage().contains("0 bytes"), e.getMessage());
    }

    @Test
    void notOnnx() throws IOException {
        ModelFormatException e = corrupt("just some text, not protobuf".getBytes());
        assertTrue(e.getMessage().startsWith("bad.onnx @ byte"), e.getMessage());
    }

    @Test
    void missingGraph() throws IOException {
        ModelFormatException e = corrupt(new ProtoWriter().varint(1, 7).toByteArray());
        assertEquals("ModelProto.graph", e.field());
    }

    @Test
    void rawDataLengthDisagreesWithDims() throws IOException {
        ProtoWriter g = new ProtoWriter().message(5, ProtoWriter.tensor("w", 1, new long[] {4, 4}, ProtoWriter.floats(1, 2)));
        ModelFormatException e = corrupt(ProtoWriter.model(g));
        assertTrue(e.getMessage().contains("tensor 'w' data: expected 64 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("found 8 bytes"), e.getMessage());
    }

    @Test
    void unknownDataType() throws IOException {
        ProtoWriter g = new ProtoWriter().message(5, ProtoWriter.tensor("w", 99, new long[] {1}, new byte[4]));
        ModelFormatException e = corrupt(ProtoWriter.model(g));
        assertTrue(e.getMessage().contains("data_type") && e.getMessage().contains("found 99"), e.getMessage());
    }

    @Test
    void dimsOverflow() throws IOException {
        long big = Integer.MAX_VALUE;
        ProtoWriter g = new ProtoWriter().message(5, ProtoWriter.tensor("w", 1, new long[] {big, big, big}, new byte[4]));
        ModelFormatException e = corrupt(ProtoWriter.model(g));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
    }

    @Test
    void negativeDim() throws IOException {
        ProtoWriter g = new ProtoWriter().message(5, ProtoWriter.tensor("w", 1, new long[] {-1}, new byte[4]));
        ModelFormatException e = corrupt(ProtoWriter.model(g));
        assertTrue(e.getMessage().contains("dims"), e.getMessage());
    }

    @Test
    void duplicateInitializerNames() throws IOException {
        ProtoWriter g = new ProtoWriter()
                .message(5, ProtoWriter.tensor("w", 1, new long[] {1}, ProtoWriter.floats(1)))
                .message(5, ProtoWriter.tensor("w", 1, new long[] {1}, ProtoWriter.floats(2)));
        ModelFormatException e = corrupt(ProtoWriter.model(g));
        assertTrue(e.getMessage().contains("duplicate 'w'"), e.getMessage());
    }

    @Test
    void nonUtf8Name() throws IOException {
        ProtoWriter t = new ProtoWriter().varint(1, 1).varint(2, 1).bytes(8, new byte[] {'w', (byte) 0xC3, (byte) 0x28})
                .bytes(9, ProtoWriter.floats(1));
        ModelFormatException e = corrupt(ProtoWriter.model(new ProtoWriter().message(5, t)));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void lengthBeyondEnclosingMessage() throws IOException {
        byte[] ok = ProtoWriter.model(linearGraph());
        // The graph field's length varint sits right after its key (0x3A); make it claim far more bytes.
        ProtoWriter w = new ProtoWriter().varint(1, 7);
        w.raw((7 << 3) | 2);
        w.raw(1L << 40);
        ModelFormatException e = corrupt(w.toByteArray());
        assertTrue(e.getMessage().contains("ModelProto.graph length"), e.getMessage());
        assertTrue(ok.length > 0);
    }

    @Test
    void overlongVarint() throws IOException {
        byte[] b = new byte[12];
        b[0] = 0x08;   // field 1, varint
        Arrays.fill(b, 1, 12, (byte) 0xFF);
        ModelFormatException e = corrupt(b);
        assertTrue(e.getMessage().contains("varint"), e.getMessage());
    }

    @Test
    void groupWireTypeRejected() throws IOException {
        ModelFormatException e = corrupt(new byte[] {0x0B});   // field 1, wire type 3
        assertTrue(e.getMessage().contains("wire type"), e.getMessage());
    }

    @Test
    void externalDataRejected() throws IOException {
        ProtoWriter t = ProtoWriter.tensor("w", 1, new long[] {1}, null).varint(14, 1);
        ModelFormatException e = corrupt(ProtoWriter.model(new ProtoWriter().message(5, t)));
        assertTrue(e.getMessage().contains("external"), e.getMessage());
    }

    @Test
    void integerDataKeepsValuesFloatCannotHold() throws Exception {
        // int64_data packed (field 7), int32_data unpacked (field 5): values a float would round
        ProtoWriter packed = new ProtoWriter();
        long[] longs = {Integer.MAX_VALUE, -1, (1L << 40) + 1};
        for (long v : longs) {
            packed.raw(v);
        }
        ProtoWriter i64 = ProtoWriter.tensor("i64", 7, new long[] {3}, null).bytes(7, packed.toByteArray());
        ProtoWriter i32 = ProtoWriter.tensor("i32", 6, new long[] {2}, null)
                .varint(5, Integer.MAX_VALUE).varint(5, 16_777_217);
        Path p = write("ints.onnx", ProtoWriter.model(new ProtoWriter().message(5, i64).message(5, i32)));
        try (OnnxModel m = OnnxModel.open(p)) {
            Tensor a = m.tensor("i64");
            for (int i = 0; i < longs.length; i++) {
                assertEquals(longs[i], a.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i));
            }
            Tensor b = m.tensor("i32");
            assertEquals(Integer.MAX_VALUE, b.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0));
            assertEquals(16_777_217, b.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 1));
        }
    }

    @Test
    void everyTruncationFailsCleanly() throws IOException {
        byte[] ok = ProtoWriter.model(linearGraph());
        for (int n = 0; n < ok.length; n++) {
            Path p = write("t.onnx", Arrays.copyOf(ok, n));
            try (OnnxModel m = OnnxModel.open(p)) {
                assertFalse(m.initializers().size() == 2 && m.nodes().size() == 2 && m.outputs().size() == 1,
                        "prefix " + n + " parsed as the whole model");
            } catch (ModelFormatException expected) {
                // clean failure
            } catch (RuntimeException e) {
                fail("truncation at " + n + " threw " + e, e);
            }
        }
    }

    @Test
    void randomByteFlipsFailCleanly() throws IOException {
        byte[] ok = ProtoWriter.model(linearGraph());
        long seed = 20240601L;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = ok.clone();
            int pos = rnd.nextInt(b.length);
            b[pos] = (byte) rnd.nextInt(256);
            Path p = write("f.onnx", b);
            try (OnnxModel m = OnnxModel.open(p)) {
                for (String name : m.initializers().keySet()) {
                    m.tensor(name);
                }
            } catch (ModelFormatException expected) {
                // clean failure
            } catch (IllegalArgumentException e) {
                // a valid file with a dtype we cannot map to a tensor: reported by name, also clean
                assertTrue(e.getMessage().contains("ONNX tensor"), "seed " + seed + " trial " + trial + ": " + e);
            } catch (RuntimeException e) {
                fail("seed " + seed + " trial " + trial + " (byte " + pos + ") threw " + e, e);
            }
        }
    }
}
