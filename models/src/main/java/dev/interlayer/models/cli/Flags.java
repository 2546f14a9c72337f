package dev.interlayer.models.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks of command-line values, run before any model is opened so that a bad flag fails at once and
 * the message names the flag as the user typed it ({@code --top-p}), not the Java field behind it.
 * Commands in other modules ({@code bench}) use it too.
 */
public final class Flags {
    /** Most compute threads {@code --threads} accepts: the limit of {@link java.util.concurrent.ForkJoinPool}. */
    public static final int MAX_THREADS = 0x7fff;

    private Flags() {
    }

    /**
     * Throws {@code IllegalArgumentException("<flag> must be <rule>, got <value>")} unless {@code ok}.
     *
     * @param flag  the option as typed, e.g. {@code "--max-tokens"}
     * @param rule  what is accepted, e.g. {@code ">= 1"}
     * @param value what was given
     */
    public static void require(boolean ok, String flag, String rule, Object value) {
        if (!ok) {
            throw new IllegalArgumentException(flag + " must be " + rule + ", got " + value);
        }
    }

    /**
     * Checks that {@code path}, given as {@code flag}, exists (a file or a folder).
     *
     * @throws IllegalArgumentException {@code "--model /x/nope.gguf: not found"}
     */
    public static Path exists(Path path, String flag) {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException(flag + " " + path + ": not found");
        }
        return path;
    }

    /**
     * Checks that {@code path}, given as {@code flag}, is an existing file, not a folder.
     *
     * @param what what the flag expects, for the message, e.g. {@code "a GGUF file"}
     * @throws IllegalArgumentException {@code "--input /x: not found"} or {@code "... is a directory; expected ..."}
     */
    public static Path file(Path path, String flag, String what) {
        exists(path, flag);
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException(flag + " " + path + ": is a directory; expected " + what);
        }
        return path;
    }

    /** Checks a {@code --threads} value: 1 to {@link #MAX_THREADS}. */
    public static int threads(int n) {
        require(n >= 1 && n <= MAX_THREADS, "--threads", "between 1 and " + MAX_THREADS, n);
        return n;
    }
}
