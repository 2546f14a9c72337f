package dev.interlayer.models.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Little-endian sequential reader over a file channel that checks every read against the bytes
 * left in the file before reading or allocating, so a lying length fails with a
 * {@link ModelFormatException} instead of an OOM or an index error.
 */
final class GgufReader {
    private static final int BUFFER = 1 << 16;

    private final FileChannel channel;
    private final Path file;
    private final long fileSize;
    private final ByteBuffer buf = ByteBuffer.allocate(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private long bufStart;   // file offset of buf[0]

    GgufReader(FileChannel channel, Path file) throws IOException {
        this.channel = channel;
        this.file = file;
        this.fileSize = channel.size();
        buf.limit(0);
    }

    long fileSize() {
        return fileSize;
    }

    /** Current file offset. */
    long position() {
        return bufStart + buf.position();
    }

    /** Bytes from the current position to the end of the file. */
    long remaining() {
        return fileSize - position();
    }

    Path file() {
        return file;
    }

    ModelFormatException error(long offset, String field, String expected, String found) {
        return new ModelFormatException(file, offset, field, expected, found);
    }

    /** Throws unless {@code n} more bytes exist in the file. */
    void require(long n, String field) throws ModelFormatException {
        if (n < 0 || n > remaining()) {
            throw error(position(), field, (n < 0 ? "a non-negative size" : n + " more bytes"),
                    "only " + remaining() + " bytes before end of file (size " + fileSize + ")");
        }
    }

    /** Makes {@code n <= BUFFER} bytes available in the buffer (caller has checked the file holds them). */
    private void fill(int n) throws IOException {
        if (buf.remaining() >= n) {
            return;
        }
        long pos = position();
        buf.compact();   // unread bytes move to index 0, which now corresponds to file offset pos
        bufStart = pos;
        long readAt = pos + buf.position();
        while (buf.position() < n) {
            int r = channel.read(buf, readAt);
            if (r < 0) {
                throw error(readAt, "read", n + " bytes", "end of file");
            }
            readAt += r;
        }
        buf.flip();
    }

    int u8(String field) throws IOException {
        require(1, field);
        fill(1);
        return buf.get() & 0xFF;
    }

    int u16(String field) throws IOException {
        require(2, field);
        fill(2);
        return buf.getShort() & 0xFFFF;
    }

    int i32(String field) throws IOException {
        require(4, field);
        fill(4);
        return buf.getInt();
    }

    long u32(String field) throws IOException {
        return i32(field) & 0xFFFF_FFFFL;
    }

    long i64(String field) throws IOException {
        require(8, field);
        fill(8);
        return buf.getLong();
    }

    /**
     * Reads a u64 that is a count or size: values above 2^63-1 (negative as long) are reported as
     * corrupt, since no file can hold that many bytes.
     */
    long count(String field) throws IOException {
        long at = position();
        long v = i64(field);
        if (v < 0) {
            throw error(at, field, "a count below 2^63", Long.toUnsignedString(v));
        }
        return v;
    }

    float f32(String field) throws IOException {
        return Float.intBitsToFloat(i32(field));
    }

    double f64(String field) throws IOException {
        return Double.longBitsToDouble(i64(field));
    }

    /** Reads {@code n} raw bytes (n already checked against the file). */
    byte[] bytes(int n, String field) throws IOException {
        require(n, field);
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            if (!buf.hasRemaining()) {
                fill(1);
            }
            int k = Math.min(buf.remaining(), n - done);
            buf.get(out, done, k);
            done += k;
        }
        return out;
    }

    /** A GGUF string: u64 byte length then UTF-8 bytes, validated. */
    String string(String field) throws IOException {
        long at = position();
        long len = count(field + " length");
        if (len > remaining()) {
            throw error(at, field + " length", "at most " + remaining() + " (bytes left in file)", Long.toString(len));
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw error(at, field + " length", "at most " + (Integer.MAX_VALUE - 8), Long.toString(len));
        }
        long dataAt = position();
        byte[] b = bytes((int) len, field);
        try {
            CharBuffer cb = utf8.reset().decode(ByteBuffer.wrap(b));
            return cb.toString();
        } catch (CharacterCodingException e) {
            throw error(dataAt, field, "valid UTF-8", "malformed bytes " + hexPrefix(b));
        }
    }

    /** Skips forward to absolute offset {@code target} (not past EOF). */
    void seek(long target) {
        long pos = position();
        if (target >= bufStart && target <= bufStart + buf.limit()) {
            buf.position((int) (target - bufStart));
        } else {
            bufStart = target;
            buf.clear().limit(0);
        }
        assert position() == target : pos;
    }

    private static String hexPrefix(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(16, b.length); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb + (b.length > 16 ? "…" : "");
    }
}
