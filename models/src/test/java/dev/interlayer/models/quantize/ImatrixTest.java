package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.quant.ActivationStats;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama.cpp's importance matrix read by Interlayer and compared with Interlayer's own calibration statistics. The
 * fixtures in {@code imatrix/} were written by llama.cpp's {@code llama-imatrix} (build of /tmp/llamacpp,
 * 2026-12-07) on stories260K with {@code -c 64 -b 64 -t 1} over {@code stories-calib.txt} (the first 2.4 KB of
 * bench/quant/calibration.txt), once as GGUF and once with {@code --output-format dat}.
 */
class ImatrixTest {
    @TempDir
    Path dir;

    /** Both of llama.cpp's formats of the same run read to the same E[x²] (the legacy one stores float32 E[x²]·ncall). */
    @Test
    void ggufAndLegacyFormatsOfOneRunAgree() throws IOException, URISyntaxException {
        Imatrix gguf = Imatrix.read(resource("stories260K-c64.imatrix.gguf"));
        Imatrix dat = Imatrix.read(resource("stories260K-c64.imatrix.dat"));
        assertEquals(35, gguf.meanSquares().size(), "q, k, v, o, gate, up, down of 5 layers: " + gguf.meanSquares().keySet());
        assertEquals(gguf.meanSquares().keySet(), dat.meanSquares().keySet());
        for (var e : gguf.meanSquares().entrySet()) {
            double[] a = e.getValue(), b = dat.meanSquares().get(e.getKey());
            assertEquals(a.length, b.length, e.getKey());
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-6 * a[i], e.getKey() + " column " + i);   // float32 of the product, once
            }
            assertEquals(17 * 64L, gguf.counts().get(e.getKey()), "17 chunks of 64 tokens");
        }
    }

    /**
     * The same tokens through Interlayer's float stories260K (each 64-token chunk in a fresh context with BOS as its
     * first token, as llama-imatrix feeds them), exported by {@link Imatrix#export} as a legacy imatrix.dat and read
     * back, give llama.cpp's E[x²] for every linear: agreement to 1e-3 of each linear's largest column (float32
     * forwards by two engines, llama.cpp summing x² in float32 over 1,088 tokens; the .dat stores float32).
     */
    @Test
    void exportedStatisticsMatchLlamaCpps() throws IOException, URISyntaxException {
        Path model = SharedModels.require("stories260K/stories260K.gguf");
        Imatrix llama = Imatrix.read(resource("stories260K-c64.imatrix.gguf"));
        String text = Files.readString(resource("stories-calib.txt"), StandardCharsets.UTF_8);
        Path dat = dir.resolve("ours.imatrix.dat");
        Map<String, List<ActivationStats>> written;
        try (LoadedModel lm = ModelLoader.open(model); GgufFile file = Gguf.open(model)) {
            int[] all = lm.tokenizer().encode(text);
            int chunk = 64, chunks = all.length / chunk, bos = file.getInt("tokenizer.ggml.bos_token_id", -1);
            assertEquals(17, chunks, "llama-imatrix computed over 17 chunks");
            int[] tokens = java.util.Arrays.copyOf(all, chunks * chunk);
            for (int c = 0; c < chunks; c++) {
                tokens[c * chunk] = bos;
            }
            written = Imatrix.export(file, tokens, chunk, dat, "stories-calib.txt");
        }
        Imatrix ours = Imatrix.read(dat);
        assertEquals(llama.meanSquares().keySet(), ours.meanSquares().keySet());
        for (var e : llama.meanSquares().entrySet()) {
            double[] want = e.getValue(), got = ours.meanSquares().get(e.getKey());
            assertEquals(want.length, got.length, e.getKey());
            double max = 0;
            for (double v : want) {
                max = Math.max(max, v);
            }
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-3 * max, e.getKey() + " column " + i);
            }
            assertEquals(llama.counts().get(e.getKey()), written.get(e.getKey()).get(0).count(), e.getKey());
        }
    }

    @Test
    void truncatedOrForeignFilesAreRefusedByName() throws IOException {
        Path bad = dir.resolve("bad.dat");
        Files.write(bad, new byte[] {2, 0, 0, 0, 5, 0, 0, 0, 'a'});
        var e = assertThrows(IllegalArgumentException.class, () -> Imatrix.read(bad));
        assertTrue(e.getMessage().contains("bad.dat") && e.getMessage().contains("truncated"), e.getMessage());
    }

    /** Lying counts are refused before anything is allocated, naming the file, the field and its offset. */
    @Test
    void lyingCountsAndForeignFilesNameFieldAndOffset() throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "o words of a plain text file, read as lengths of about two billion\n".repeat(10));
        assertRefused(text, "notes.txt", "entry count", "offset 0");
        assertRefused(dat(dir.resolve("neg.dat"), 1, -1, 0, 1, 1), "neg.dat", "name length of entry 0", "offset 4");
        assertRefused(dat(dir.resolve("huge.dat"), 1, Integer.MAX_VALUE, 0, 1, 1), "huge.dat", "name length",
                "offset 4");
        assertRefused(dat(dir.resolve("nval.dat"), 1, 0, 1, 0x7ffffff0, 1), "nval.dat", "nval of entry 0",
                "offset 12");
        assertRefused(dat(dir.resolve("twice.dat"), 2, 0, 1, 1, 1, 0, 1, 1, 1), "twice.dat", "appears twice",
                "entry 1");
    }

    /** llama-quantize reads an entry with ncall 0 as raw sums (no division); so does {@link Imatrix#read}. */
    @Test
    void ncallZeroKeepsTheSumsAsLlamaQuantizeDoes() throws IOException {
        Path f = dat(dir.resolve("zero.dat"), 1, 0, 0, 2, Float.floatToIntBits(3f), Float.floatToIntBits(5f));
        Imatrix m = Imatrix.read(f);
        assertEquals(3.0, m.meanSquares().get("")[0], 0.0);
        assertEquals(5.0, m.meanSquares().get("")[1], 0.0);
        assertEquals(0L, m.counts().get(""));
    }

    /** A site's statistics must be finite E[x²] ≥ 0: NaN, infinite or negative entries are refused by column. */
    @Test
    void nonFiniteOrNegativeStatisticsAreRefusedByTensorAndColumn() throws IOException {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f}) {
            Path f = dat(dir.resolve("bad-value.dat"), 1, 0, 1, 2, Float.floatToIntBits(3f), Float.floatToIntBits(bad));
            Imatrix m = Imatrix.read(f);
            var e = assertThrows(IllegalArgumentException.class, () -> m.site(List.of(""), 2));
            assertTrue(e.getMessage().contains("bad-value.dat") && e.getMessage().contains("column 1"), e.getMessage());
        }
        Path ok = dat(dir.resolve("ok.dat"), 1, 0, 1, 2, Float.floatToIntBits(3f), Float.floatToIntBits(0f));
        assertEquals(0.0, Imatrix.read(ok).site(List.of(""), 2)[1], 0.0);
    }

    /**
     * The provenance llama-quantize records: the same llama-imatrix run saved in both formats names the same data set
     * and chunk count, GGUF in {@code imatrix.datasets} / {@code imatrix.chunk_count}, legacy in its trailer.
     */
    @Test
    void provenanceIsReadFromBothFormats() throws Exception {
        for (String name : new String[] {"stories260K-c64.imatrix.gguf", "stories260K-c64.imatrix.dat"}) {
            Imatrix m = Imatrix.read(resource(name));
            assertEquals("models/src/test/resources/imatrix/stories-calib.txt", m.dataset(), name);
            assertEquals(17, m.chunks(), name);
        }
    }

    /**
     * A legacy file may end after its entries (written before llama-imatrix kept its data set): no data set, chunk
     * count 0, as llama-quantize reads it. A trailer that is there is checked: a cut one or a length past the end is
     * refused naming the file, the field and its offset (llama-quantize would read undefined ints); an empty data set
     * is none; bytes after the trailer are ignored, as llama-quantize ignores them.
     */
    @Test
    void legacyTrailerIsOptionalAndCheckedWhenPresent() throws IOException {
        int three = Float.floatToIntBits(3f);
        Imatrix none = Imatrix.read(dat(dir.resolve("old.dat"), 1, 0, 1, 1, three));
        assertEquals(null, none.dataset());
        assertEquals(0, none.chunks());
        Imatrix named = Imatrix.read(dat(dir.resolve("new.dat"), 1, 0, 1, 1, three, 9, 4, 0x64636261, 77));
        assertEquals("abcd", named.dataset());
        assertEquals(9, named.chunks());
        Imatrix empty = Imatrix.read(dat(dir.resolve("empty.dat"), 1, 0, 1, 1, three, 5, 0));
        assertEquals(null, empty.dataset());
        assertEquals(5, empty.chunks());
        Path cut = dat(dir.resolve("cut.dat"), 1, 0, 1, 1, three);
        Files.write(cut, new byte[] {9, 0}, java.nio.file.StandardOpenOption.APPEND);
        assertRefused(cut, "cut.dat", "chunk count", "offset 20", "truncated");
        assertRefused(dat(dir.resolve("lying.dat"), 1, 0, 1, 1, three, 9, 1000, 0x64636261), "lying.dat",
                "data set length", "offset 24", "1000");
        assertRefused(dat(dir.resolve("noLength.dat"), 1, 0, 1, 1, three, 9), "noLength.dat", "data set length",
                "offset 24");
    }

    private static void assertRefused(Path file, String... parts) {
        var e = assertThrows(IllegalArgumentException.class, () -> Imatrix.read(file));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
    }

    /** A legacy file of little-endian ints (names are empty: their length is 0 and no bytes follow). */
    private static Path dat(Path file, int... ints) throws IOException {
        var b = java.nio.ByteBuffer.allocate(4 * ints.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : ints) {
            b.putInt(v);
        }
        return Files.write(file, b.array());
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ImatrixTest.class.getResource("/imatrix/" + name).toURI());
    }
}
