package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Safetensors reader: values and dtypes, sharding, ignored buffers, and one test per corruption rule. */
class SafetensorsTest extends ReaderFileTest {
    SafetensorsTest() {
        super("bad.safetensors", Safetensors::open);
    }

    /** Builds a file from a header JSON and data bytes (header length written as given, or the true one). */
    static byte[] file(String header, byte[] data, Long lieLength) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h, data, lieLength);
    }

    static byte[] file(byte[] h, byte[] data, Long lieLength) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(lieLength == null ? h.length : lieLength).array());
        out.writeBytes(h);
        out.writeBytes(data);
        return out.toByteArray();
    }

    static final String HEADER = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
            + "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]},"
            + "\"embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]},"
            + "\"h.0.attn.bias\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[32,33]}}";

    static byte[] data() {
        ByteBuffer b = ByteBuffer.allocate(33).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(1).putFloat(2).putFloat(3).putFloat(4);
        b.putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-2f));
        b.putShort((short) (Float.floatToRawIntBits(1.5f) >>> 16)).putShort((short) (Float.floatToRawIntBits(-3f) >>> 16));
        b.putLong(7).put((byte) 1);
        return b.array();
    }

    @Test
    void readsF32F16Bf16AndHidesBuffers() throws Exception {
        try (Safetensors s = Safetensors.open(write("ok.safetensors", file(HEADER, data(), null)))) {
            assertEquals(java.util.Set.of("a", "b", "c"), s.names(), "position_ids and attn.bias are buffers");
            assertEquals(Shape.of(2, 2), s.tensor("a").shape());
            assertArrayEquals(new float[] {1, 2, 3, 4}, s.tensor("a").toFloatArray());
            assertEquals(DType.F16, s.dtype("b"));
            assertArrayEquals(new float[] {0.5f, -2f}, s.tensor("b").toFloatArray());
            assertEquals(DType.BF16, s.dtype("c"));
            assertArrayEquals(new float[] {1.5f, -3f}, s.tensor("c").toFloatArray());
            assertTrue(s.tensor("a").isReadOnly(), "mapped, read-only");
            assertEquals("pt", s.metadata().get("format"));
        }
    }

    @Test
    void missingNameListsClosest() throws Exception {
        try (Safetensors s = Safetensors.open(write("ok.safetensors", file(HEADER, data(), null)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.tensor("aa"));
            assertTrue(e.getMessage().contains("'aa'") && e.getMessage().contains("[a, b, c]"), e.getMessage());
        }
    }

    @Test
    void sharded() throws Exception {
        write("model-00001-of-00002.safetensors",
                file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", ProtoWriter.floats(5), null));
        write("model-00002-of-00002.safetensors",
                file("{\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", ProtoWriter.floats(6, 7), null));
        Path index = write("model.safetensors.index.json", ("{\"metadata\":{},\"weight_map\":{"
                + "\"x\":\"model-00001-of-00002.safetensors\",\"y\":\"model-00002-of-00002.safetensors\"}}").getBytes());
        try (Safetensors s = Safetensors.open(index)) {
            assertEquals(java.util.Set.of("x", "y"), s.names());
            assertArrayEquals(new float[] {6, 7}, s.tensor("y").toFloatArray());
        }
        Path bad = write("bad.index.json", ("{\"weight_map\":{\"z\":\"model-00001-of-00002.safetensors\"}}").getBytes());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Safetensors.open(bad));
        assertTrue(e.getMessage().contains("'z'") && e.getMessage().contains("absent"), e.getMessage());
    }

    @Test
    void fileShorterThanLengthField() throws IOException {
        ModelFormatException e = corrupt(new byte[5]);
        assertEquals("header length", e.field());
        assertTrue(e.getMessage().contains("found 5 bytes"), e.getMessage());
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        byte[] ok = file(HEADER, data(), null);
        ModelFormatException e = corrupt(file(HEADER, data(), (long) ok.length));
        assertEquals("header length", e.field());
        assertEquals(0, e.offset());
    }

    @Test
    void headerLengthHuge() throws IOException {
        ModelFormatException e = corrupt(file(HEADER, data(), Long.MAX_VALUE));
        assertTrue(e.getMessage().contains(Long.toString(Long.MAX_VALUE)), e.getMessage());
        ModelFormatException neg = corrupt(file(HEADER, data(), -1L));
        assertTrue(neg.getMessage().contains("18446744073709551615"), neg.getMessage());
    }

    @Test
    void everyTruncationFailsCleanly() throws IOException {
        byte[] ok = file(HEADER, data(), null);
        for (int n = 0; n < ok.length; n++) {
            Path p = write("t.safetensors", Arrays.copyOf(ok, n));
            try {
                Safetensors.open(p).close();
                fail("truncation at " + n + " of " + ok.length + " opened");
            } catch (ModelFormatException expected) {
                assertTrue(expected.getMessage().startsWith("t.safetensors @ byte"), expected.getMessage());
            }
        }
    }

    @Test
    void nonUtf8Name() throws IOException {
        byte[] h = "{\"a\u0001\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        int at = new String(h, StandardCharsets.UTF_8).indexOf('\u0001');
        h[at] = (byte) 0xFF;
        ModelFormatException e = corrupt(file(h, new byte[4], null));
        assertEquals(8 + at, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void badJson() throws IOException {
        ModelFormatException e = corrupt(file("{\"a\":{\"dtype\":\"F32\",,}}", new byte[4], null));
        assertEquals("header JSON", e.field());
    }

    /** Headers that parse as JSON but do not describe the data, each with the words its message names. */
    static Stream<Arguments> corruptHeaders() {
        return Stream.of(
                Arguments.of("tensorPastEndOfData", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                        new byte[8], List.of("end <= 8", "found end 16")),
                Arguments.of("unknownDtype", HEADER.replace("\"F16\"", "\"F33\""), data(),
                        List.of("tensor 'b' dtype", "F33")),
                Arguments.of("dtypeFlipChangesByteCount", HEADER.replace("\"F16\"", "\"F32\""), data(),
                        List.of("expected 8 bytes", "found 4 bytes")),
                Arguments.of("offsetsReversed", HEADER.replace("[16,20]", "[20,16]"), data(), List.of("begin <= end")),
                Arguments.of("overlappingRanges", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12],
                        List.of("overlap")),
                Arguments.of("dimsOverflow",
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],"
                        + "\"data_offsets\":[0,4]}}",
                        new byte[4], List.of("overflows")),
                Arguments.of("duplicateNames", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8],
                        List.of("'a'", "duplicate")),
                Arguments.of("headerNotAJsonObject", "[1,2,3]", new byte[0], List.of("JSON object")),
                Arguments.of("fractionalOffsets", HEADER.replace("[0,16]", "[0,16.5]"), data(),
                        List.of("data_offsets")),
                Arguments.of("hugeOffsets", HEADER.replace("[0,16]", "[0,99999999999999999999]"), data(),
                        List.of("data_offsets")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptHeaders")
    void corruptHeaderIsNamed(String name, String header, byte[] data, List<String> words) throws IOException {
        ModelFormatException e = corrupt(file(header, data, null));
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void hfFolderConfigMustParse() throws IOException {
        Path d = Files.createDirectory(dir.resolve("m"));
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\": 4,");
        Files.write(d.resolve("model.safetensors"), file(HEADER, data(), null));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfFolder.open(d));
        assertTrue(e.getMessage().startsWith("config.json"), e.getMessage());
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\": 4, \"model_type\": \"bert\"}");
        try (HfFolder f = HfFolder.open(d)) {
            assertEquals("bert", f.modelType());
            assertFalse(f.tokenizerJson().isPresent());
        }
    }
}
