package dev.interlayer.models.quantize;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.quant.ActivationStats;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.ImatrixWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An importance matrix as llama.cpp's {@code llama-imatrix} writes it, read back: for every linear its input's
 * mean square per column, {@code E[x_j²] = Σ_t x_tj² / count} over the calibration tokens (per expert for MoE
 * tensors, experts' columns one after another). Both of llama.cpp's formats are read:
 * <ul>
 *   <li>GGUF (its default): tensors {@code <linear>.in_sum2} (Σx², f32, {@code [dIn·experts]}) and
 *       {@code <linear>.counts} (tokens per expert, f32);</li>
 *   <li>the legacy {@code imatrix.dat} ({@code --output-format dat}, and {@link dev.interlayer.quant.ImatrixWriter}'s
 *       output): per entry {@code ncall} and values {@code E[x²]·ncall}, divided back by {@code ncall} as
 *       {@code llama-quantize} does.</li>
 * </ul>
 * These are the statistics {@code llama-quantize --imatrix} weighs its rounding error with, and the diagonal of the
 * Hessian {@code H = 2XᵀX/N} the calibrated quantizers use ({@code diag H = 2·E[x²]}).
 *
 * @param source      the file it was read from (for error messages)
 * @param meanSquares {@code E[x²]} per linear (GGUF tensor name, e.g. {@code blk.0.attn_q.weight}), in name order
 * @param counts      per linear: tokens seen (GGUF, the largest over its experts) or calibration chunks ({@code ncall},
 *                    legacy format, which keeps no token count)
 * @param dataset     the calibration data set it names, or null: GGUF {@code imatrix.datasets}' first element; legacy,
 *                    the string after the entries (llama-imatrix writes it since early 2024; older files end after the
 *                    entries)
 * @param chunks      the calibration chunks it was computed on, 0 if unknown: GGUF {@code imatrix.chunk_count};
 *                    legacy, the int32 "last call" before the dataset. With the entry count and the data set this is
 *                    what llama-quantize records as {@code quantize.imatrix.*} metadata
 */
public record Imatrix(Path source, Map<String, double[]> meanSquares, Map<String, Long> counts, String dataset,
                      int chunks) {
    private static final String SUM2 = ".in_sum2", COUNTS = ".counts";
    /** llama-imatrix's GGUF metadata keys for the provenance. */
    static final String DATASETS = "imatrix.datasets", CHUNK_COUNT = "imatrix.chunk_count";

    /** An importance matrix without provenance (no data set, chunk count 0). */
    public Imatrix(Path source, Map<String, double[]> meanSquares, Map<String, Long> counts) {
        this(source, meanSquares, counts, null, 0);
    }

    /**
     * The importance {@code E[x²] [cols]} of the input that the linears {@code tensors} (GGUF names, one input site)
     * read: their entries' mean (llama-imatrix records the same input once per linear, so they are equal).
     *
     * @throws IllegalArgumentException naming this file and the tensor if an entry is missing, has another length
     *                                  than {@code cols} (an importance matrix of another model), or holds a value
     *                                  that is not a finite E[x²] ≥ 0 (it would weigh the rounding search by garbage)
     */
    public double[] site(List<String> tensors, int cols) {
        double[] sum = new double[cols];
        for (String t : tensors) {
            double[] e = meanSquares.get(t);
            if (e == null) {
                throw new IllegalArgumentException("imatrix " + source + ": no entry for '" + t + "' (it has "
                        + meanSquares.size() + " entries" + (meanSquares.isEmpty() ? ""
                        : ", e.g. '" + meanSquares.keySet().iterator().next() + "'")
                        + "); was it computed on this model?");
            }
            if (e.length != cols) {
                throw new IllegalArgumentException("imatrix " + source + ": entry '" + t + "' has " + e.length
                        + " values, but the tensor has " + cols + " input columns; was it computed on this model?");
            }
            for (int j = 0; j < cols; j++) {
                if (!(e[j] >= 0) || Double.isInfinite(e[j])) {
                    throw new IllegalArgumentException("imatrix " + source + ": entry '" + t + "' has " + e[j]
                            + " at column " + j + "; E[x²] must be finite and ≥ 0");
                }
                sum[j] += e[j] / tensors.size();
            }
        }
        return sum;
    }

    /**
     * Reads {@code path} in either format (GGUF by its magic, else legacy).
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException naming the file and entry if its layout is not an importance matrix
     */
    public static Imatrix read(Path path) throws IOException {
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(path)) {
            if (in.readNBytes(head, 0, 4) == 4 && new String(head, StandardCharsets.US_ASCII).equals("GGUF")) {
                try (GgufFile f = Gguf.open(path)) {
                    return fromGguf(f);
                }
            }
        }
        long size = Files.size(path);
        if (size > Integer.MAX_VALUE - 8) {         // llama.cpp's imatrix files are megabytes; this one cannot be one
            throw new IllegalArgumentException("imatrix " + path + ": " + size + " bytes is not a GGUF file and too"
                    + " large for a legacy imatrix.dat");
        }
        return fromDat(path, Files.readAllBytes(path));
    }

    /**
     * Writes the importance matrix of the float decoder in {@code file} on {@code tokens} (non-overlapping windows of
     * {@code window} tokens, each in a fresh context, as the quantizers calibrate) to {@code out} in llama.cpp's
     * legacy {@code imatrix.dat} layout ({@link ImatrixWriter}), which {@code llama-quantize --imatrix} reads: one
     * entry per 2-D block linear {@code blk.L.<linear>.weight}, E[x²] of its input. MoE expert tensors (3-D) are not
     * written. Returns the statistics written, by tensor name.
     *
     * @throws IOException              if the file cannot be written
     * @throws IllegalArgumentException as {@link Calibration#decoder}
     */
    public static Map<String, List<ActivationStats>> export(GgufFile file, int[] tokens, int window, Path out,
                                                             String dataset) throws IOException {
        CalibrationStats stats = new CalibrationStats(false);
        Calibration.decoder(SequentialQuantizer.stack(file, Map.of()), tokens, window, window, stats);
        Map<String, List<ActivationStats>> entries = new TreeMap<>();
        for (String name : file.names()) {
            if (!name.startsWith("blk.") || !name.endsWith(".weight") || file.info(name).shape().rank() != 2) {
                continue;
            }
            String key;
            try {
                key = CalibrationTap.keyOf(name.substring(0, name.length() - ".weight".length()));
            } catch (IllegalArgumentException notALinear) {           // norms and other per-block tensors
                continue;
            }
            ActivationStats st = stats.activations().get(key);
            if (st != null && st.count() > 0) {
                entries.put(name, List.of(st));
            }
        }
        try (OutputStream o = Files.newOutputStream(out)) {
            ImatrixWriter.writeDat(o, entries, window, dataset);
        }
        return entries;
    }

    private static Imatrix fromGguf(GgufFile f) {
        Map<String, double[]> means = new TreeMap<>();
        Map<String, Long> counts = new TreeMap<>();
        for (String name : f.names()) {
            if (!name.endsWith(SUM2)) {
                continue;
            }
            String linear = name.substring(0, name.length() - SUM2.length());
            if (!f.contains(linear + COUNTS)) {
                throw new IllegalArgumentException("imatrix " + f.path() + ": '" + name + "' without '" + linear + COUNTS + "'");
            }
            float[] sum = f.tensor(name).toFloatArray(), n = f.tensor(linear + COUNTS).toFloatArray();
            if (n.length == 0 || sum.length % n.length != 0) {
                throw new IllegalArgumentException("imatrix " + f.path() + ": '" + name + "' has " + sum.length
                        + " values for " + n.length + " experts' counts");
            }
            int d = sum.length / n.length;
            double[] m = new double[sum.length];
            long max = 0;
            for (int i = 0; i < m.length; i++) {
                float c = n[i / d];
                m[i] = c > 0 ? sum[i] / (double) c : 1;       // an expert without tokens: 1, as llama-quantize reads it
                max = Math.max(max, (long) c);
            }
            means.put(linear, m);
            counts.put(linear, max);
        }
        if (means.isEmpty()) {
            throw new IllegalArgumentException("imatrix " + f.path() + ": no '<linear>" + SUM2 + "' tensors");
        }
        // Newer llama-quantize refuses a GGUF imatrix without these keys; files without them still carry the
        // statistics, so they are read here as a legacy file without the trailer is (no data set, 0 chunks).
        // A chunk count past 2^31 becomes negative as in llama-quantize's int, which then records none.
        String[] sets = f.getArray(DATASETS, String[].class);
        String dataset = sets == null || sets.length == 0 ? null : sets[0];
        return new Imatrix(f.path(), means, counts, dataset, (int) f.getLong(CHUNK_COUNT, 0));
    }

    private static Imatrix fromDat(Path path, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, double[]> means = new TreeMap<>();
        Map<String, Long> counts = new TreeMap<>();
        // Every count is checked against the bytes that remain before anything is allocated: a foreign or lying file
        // (text read as lengths of ~2e9) must end in an error naming the field and offset, not an OutOfMemoryError.
        int entries = field(b, path, "entry count", -1, 16);    // an entry: name length, ncall, nval, >= 1 value
        for (int e = 0; e < entries; e++) {
            byte[] name = new byte[field(b, path, "name length", e, 1)];
            b.get(name);
            String linear = new String(name, StandardCharsets.UTF_8);
            int ncallAt = b.position();
            int ncall = field(b, path, "ncall", e, 0);
            int nval = field(b, path, "nval", e, 4);
            if (nval < 1) {
                throw new IllegalArgumentException(where(path, "nval", e, ncallAt + 4) + ": entry '" + linear
                        + "' has " + nval + " values");
            }
            if (means.containsKey(linear)) {
                throw new IllegalArgumentException(where(path, "name", e, ncallAt - name.length) + ": entry '"
                        + linear + "' appears twice");
            }
            // ncall 0: llama-quantize then uses the sums as they are (no division); so does this reader.
            double divisor = Math.max(ncall, 1);
            double[] m = new double[nval];
            for (int i = 0; i < nval; i++) {
                m[i] = b.getFloat() / divisor;
            }
            means.put(linear, m);
            counts.put(linear, (long) ncall);         // the legacy format keeps chunks, not tokens
        }
        if (!b.hasRemaining()) {          // written before llama-imatrix kept its data set: no trailer
            return new Imatrix(path, means, counts);
        }
        // The trailer: int32 last call, int32 length, the data set's bytes. llama-quantize reads it unchecked (a
        // truncated one leaves its ints undefined); here it is refused naming the field. Bytes after it are ignored,
        // as there.
        int chunks = field(b, path, "trailer's chunk count (last call)", -1, 0);
        byte[] dataset = new byte[field(b, path, "trailer's data set length", -1, 1)];
        b.get(dataset);
        return new Imatrix(path, means, counts, dataset.length == 0 ? null
                : new String(dataset, StandardCharsets.UTF_8), chunks);
    }

    /**
     * Reads a non-negative int field at the buffer's position that counts {@code unitBytes}-sized items still to come
     * (0: a plain value), refusing it, with file, entry, field and offset, if it is negative or claims more than the
     * bytes left.
     */
    private static int field(ByteBuffer b, Path path, String field, int entry, int unitBytes) {
        int at = b.position();
        if (b.remaining() < 4) {
            throw new IllegalArgumentException(where(path, field, entry, at) + ": file ends after " + b.limit()
                    + " bytes (truncated legacy imatrix.dat, or not an importance matrix)");
        }
        int v = b.getInt();
        if (v < 0 || (unitBytes > 0 && (long) v * unitBytes > b.remaining())) {
            throw new IllegalArgumentException(where(path, field, entry, at) + ": " + v + " does not fit the "
                    + b.remaining() + " bytes that follow (truncated legacy imatrix.dat, or not an importance matrix)");
        }
        return v;
    }

    private static String where(Path path, String field, int entry, int offset) {
        return "imatrix " + path + ": " + field + (entry >= 0 ? " of entry " + entry : "") + " at offset " + offset;
    }
}
