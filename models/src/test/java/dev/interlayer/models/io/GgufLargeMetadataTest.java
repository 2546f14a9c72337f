package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An open GGUF keeps no decoded copy of its large string arrays (a tokenizer's 100k+ tokens and merges), so a
 * loaded model's resident heap is not its tokenizer source twice: the values still read back exactly as
 * written, decoded anew on each request.
 */
class GgufLargeMetadataTest {
    private static final int N = 200_000;   // like a 128k vocabulary's merge list

    @TempDir
    Path dir;

    private static String entry(int i) {
        return "\u0120merge-" + i + " \u0120part-" + (N - i);   // ~25 chars, some non-ASCII like byte-level BPE
    }

    private Path write() throws Exception {
        GgufTestWriter w = new GgufTestWriter().header(3, 0, 3);
        w.kv("general.architecture", GgufTestWriter.STRING, "test");
        w.array("tokenizer.ggml.merges", GgufTestWriter.STRING);
        w.u64(N);
        for (int i = 0; i < N; i++) {
            w.str(entry(i));
        }
        w.array("small", GgufTestWriter.STRING);   // at or under the threshold: kept decoded, the same array each time
        w.u64(2);
        w.str("a");
        w.str("b");
        Path p = dir.resolve("large.gguf");
        Files.write(p, w.finish());
        return p;
    }

    @Test
    void largeStringArraysReadBackExactlyButAreNotRetained() throws Exception {
        Path p = write();
        long before = settledHeapUsed();
        try (GgufFile f = Gguf.open(p)) {
            long retained = settledHeapUsed() - before;
            // Decoded, the array is ~200k Strings of ~25 chars (> 10 MB); the bound leaves room for the
            // file's own tables and GC accounting noise but not for the strings.
            assertTrue(retained < 3_000_000, "an open GgufFile retains " + retained + " heap bytes");

            String[] a = f.getArray("tokenizer.ggml.merges", String[].class);
            assertEquals(N, a.length);
            for (int i = 0; i < N; i += 997) {
                assertEquals(entry(i), a[i]);
            }
            assertEquals(entry(N - 1), a[N - 1]);
            String[] again = (String[]) f.metadata().get("tokenizer.ggml.merges");
            assertNotSame(a, again);   // decoded anew: the file holds no reference to the first copy
            assertArrayEquals(a, again);
            assertTrue(f.metadata().containsKey("tokenizer.ggml.merges"));
            assertEquals(3, f.metadata().size());
            assertArrayEquals(new String[] {"a", "b"}, (String[]) f.get("small"));
        }
    }

    /** Heap in use after collections, the least of a few (a collection can leave some garbage behind). */
    private static long settledHeapUsed() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
