package dev.interlayer.models.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model file is corrupt, truncated, lies about its sizes, or uses something unsupported. The
 * message names the file, the byte offset, the field, what was expected and what was found, e.g.
 * {@code model.gguf @ byte 1234: tensor 'blk.3.attn_q.weight' data: expected end <= 8388608 (file size), found 9000000}.
 */
public final class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;
    private final String field;

    /**
     * @param file     the file being read
     * @param offset   byte offset of the field (-1 if not applicable)
     * @param field    the field or structure being read
     * @param expected what a valid file has there
     * @param found    what this file has there
     */
    public ModelFormatException(Path file, long offset, String field, String expected, String found) {
        this(file, offset, field, expected, found, null);
    }

    /** As above, with a cause (e.g. a JSON parse error). */
    public ModelFormatException(Path file, long offset, String field, String expected, String found, Throwable cause) {
        super(format(file, offset, field, expected, found));
        if (cause != null) {
            initCause(cause);        // without a cause, leave it unset (initCause stays available to callers)
        }
        this.file = file;
        this.offset = offset;
        this.field = field;
    }

    private static String format(Path file, long offset, String field, String expected, String found) {
        String name = file == null ? "<memory>" : file.getFileName().toString();
        return name + (offset >= 0 ? " @ byte " + offset : "") + ": " + field + ": expected " + expected
                + ", found " + found;
    }

    /** The file, or null for in-memory data. */
    public Path file() {
        return file;
    }

    /** Byte offset of the bad field, or -1. */
    public long offset() {
        return offset;
    }

    /** Name of the bad field. */
    public String field() {
        return field;
    }
}
