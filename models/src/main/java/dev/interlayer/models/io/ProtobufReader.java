package dev.interlayer.models.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A bounds-checked cursor over one protobuf message in a memory segment: the wire format only
 * (varints, 64-bit, length-delimited and 32-bit fields), no schema. Every read checks the message
 * end, so a corrupt file yields a {@link ModelFormatException} naming the byte offset and field,
 * never an index error or an allocation sized by the file.
 *
 * <p>Wire format (protobuf encoding spec): a field is a varint key {@code (number << 3) | wireType}
 * followed by its value; wire type 0 = varint, 1 = 8 little-endian bytes, 2 = varint length then
 * that many bytes, 5 = 4 little-endian bytes. Groups (3, 4) are deprecated and rejected.
 */
final class ProtobufReader {
    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private final Path file;
    private final MemorySegment seg;
    private final long end;
    private long pos;
    private int fieldNumber;
    private int wireType;
    private long fieldStart;

    /** Reads the message in bytes [start, end) of {@code seg} (offsets are file offsets). */
    ProtobufReader(Path file, MemorySegment seg, long start, long end) {
        this.file = file;
        this.seg = seg;
        this.pos = start;
        this.end = end;
    }

    /** True if another field follows. */
    boolean hasNext() {
        return pos < end;
    }

    /** Current position (file offset). */
    long position() {
        return pos;
    }

    /** Reads the next field key; afterwards {@link #fieldNumber()} and {@link #wireType()} describe it. */
    void nextField(String message) throws ModelFormatException {
        fieldStart = pos;
        long key = readVarint(message + " field key");
        int wt = (int) (key & 7);
        long num = key >>> 3;
        if (num < 1 || num > (1 << 29) - 1) {
            throw error(fieldStart, message + " field key", "field number in [1, 2^29)", Long.toString(num));
        }
        if (wt != VARINT && wt != FIXED64 && wt != LEN && wt != FIXED32) {
            throw error(fieldStart, message + " field " + num, "wire type 0, 1, 2 or 5", Integer.toString(wt));
        }
        fieldNumber = (int) num;
        wireType = wt;
    }

    int fieldNumber() {
        return fieldNumber;
    }

    int wireType() {
        return wireType;
    }

    /** Throws unless the current field has wire type {@code expected}. */
    void expectWireType(int expected, String field) throws ModelFormatException {
        if (wireType != expected) {
            throw error(fieldStart, field, "wire type " + expected, Integer.toString(wireType));
        }
    }

    /** A base-128 varint of at most 10 bytes. */
    long readVarint(String field) throws ModelFormatException {
        long start = pos;
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw error(start, field, "varint inside message ending at " + end, "end of data");
            }
            byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error(start, field, "varint of at most 10 bytes", "more than 10 bytes");
    }

    /** A varint that must be a non-negative int (lengths, enums, counts). */
    int readInt(String field) throws ModelFormatException {
        long start = pos;
        long v = readVarint(field);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw error(start, field, "value in [0, " + Integer.MAX_VALUE + "]", Long.toString(v));
        }
        return (int) v;
    }

    /** Four little-endian bytes. */
    int readFixed32(String field) throws ModelFormatException {
        require(4, field);
        int v = seg.get(ValueLayout.JAVA_INT_UNALIGNED, pos);
        pos += 4;
        return v;
    }

    /** Eight little-endian bytes. */
    long readFixed64(String field) throws ModelFormatException {
        require(8, field);
        long v = seg.get(ValueLayout.JAVA_LONG_UNALIGNED, pos);
        pos += 8;
        return v;
    }

    /**
     * Reads the length of a length-delimited field and skips its payload.
     *
     * @return {start, end} file offsets of the payload
     */
    long[] readBytesRange(String field) throws ModelFormatException {
        long start = pos;
        long len = readVarint(field + " length");
        if (len < 0 || len > end - pos) {
            throw error(start, field + " length", "at most " + (end - pos) + " bytes (rest of enclosing message)",
                    Long.toUnsignedString(len));
        }
        long[] r = {pos, pos + len};
        pos += len;
        return r;
    }

    /** A nested message as its own reader. */
    ProtobufReader readMessage(String field) throws ModelFormatException {
        long[] r = readBytesRange(field);
        return new ProtobufReader(file, seg, r[0], r[1]);
    }

    /** A UTF-8 string; malformed UTF-8 is an error. Strings longer than 1 MiB are rejected. */
    String readString(String field) throws ModelFormatException {
        long[] r = readBytesRange(field);
        long n = r[1] - r[0];
        if (n > (1 << 20)) {
            throw error(r[0], field, "string of at most 1 MiB", n + " bytes");
        }
        ByteBuffer bytes = seg.asSlice(r[0], n).asByteBuffer();
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw error(r[0], field, "valid UTF-8", "malformed bytes", e);
        }
    }

    /** Skips the value of the current field. */
    void skip() throws ModelFormatException {
        String f = "field " + fieldNumber;
        switch (wireType) {
            case VARINT -> readVarint(f);
            case FIXED64 -> readFixed64(f);
            case FIXED32 -> readFixed32(f);
            case LEN -> readBytesRange(f);
            default -> throw error(fieldStart, f, "known wire type", Integer.toString(wireType));
        }
    }

    /** The file offset where the current field's key starts. */
    long fieldStart() {
        return fieldStart;
    }

    private void require(long n, String field) throws ModelFormatException {
        if (end - pos < n) {
            throw error(pos, field, n + " bytes inside message ending at " + end, (end - pos) + " bytes");
        }
    }

    ModelFormatException error(long offset, String field, String expected, String found) {
        return new ModelFormatException(file, offset, field, expected, found);
    }

    ModelFormatException error(long offset, String field, String expected, String found, Throwable cause) {
        return new ModelFormatException(file, offset, field, expected, found, cause);
    }
}
