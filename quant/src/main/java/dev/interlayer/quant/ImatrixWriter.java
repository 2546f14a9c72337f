package dev.interlayer.quant;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Writes an importance matrix in llama.cpp's legacy {@code imatrix.dat} layout (what {@code llama-imatrix
 * --output-format dat} writes and {@code llama-quantize --imatrix} reads), all little-endian:
 * <pre>
 * int32 n_entries
 * n_entries × { int32 name_len; name (UTF-8, no terminator); int32 ncall; int32 nval; float32[nval] values }
 * int32 last_chunk
 * int32 dataset_len; dataset (UTF-8)
 * </pre>
 * with {@code ncall = ceil(max_count / chunkSize)}, {@code values[i] = (Σ x_i² / count) · ncall} (readers divide
 * by {@code ncall} to get {@code mean x_i²}); for MoE tensors the experts' columns follow each other
 * ({@code nval = dIn · experts}) with each expert's own count, and an expert without tokens stores 1.
 * Entries are written in the map's iteration order (use a sorted map); names are the GGUF tensor names
 * ({@code blk.0.attn_q.weight}). The GGUF imatrix variant stores the raw {@link ActivationStats#sumSquare()}
 * as {@code <name>.in_sum2} and the counts as {@code <name>.counts}; it needs the GGUF writer and is not
 * written here.
 */
public final class ImatrixWriter {
    private ImatrixWriter() {
    }

    /**
     * Writes {@code entries} (one statistics object per expert; one for a dense tensor) to {@code out}.
     * {@code chunkSize} is the tokens per calibration chunk (llama-imatrix's context size, default 512).
     *
     * @throws IllegalArgumentException if an entry is empty or its experts differ in width
     */
    public static void writeDat(OutputStream out, Map<String, List<ActivationStats>> entries, int chunkSize,
                                String dataset) throws IOException {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("ImatrixWriter: chunkSize must be >= 1, got " + chunkSize);
        }
        DataOutputStream o = new DataOutputStream(out);
        int stored = 0;
        long maxCount = 0;
        for (var e : entries.entrySet()) {
            check(e.getKey(), e.getValue());
            if (maxCount(e.getValue()) > 0) {
                stored++;
            }
            maxCount = Math.max(maxCount, maxCount(e.getValue()));
        }
        o.write(le(stored));
        for (var e : entries.entrySet()) {
            List<ActivationStats> experts = e.getValue();
            long max = maxCount(experts);
            if (max == 0) {
                continue;                                  // llama.cpp skips entries without data
            }
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            o.write(le(name.length));
            o.write(name);
            int ncall = (int) ((max + chunkSize - 1) / chunkSize);
            int d = experts.get(0).dIn();
            o.write(le(ncall));
            o.write(le(d * experts.size()));
            ByteBuffer b = ByteBuffer.allocate(4 * d * experts.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (ActivationStats st : experts) {
                double[] sum = st.sumSquare();
                for (int i = 0; i < d; i++) {
                    float count = st.count() == 0 ? 1f : (float) st.count();
                    float value = st.count() == 0 ? 1f : (float) sum[i];
                    b.putFloat(value / count * ncall);
                }
            }
            o.write(b.array());
        }
        o.write(le((int) ((maxCount + chunkSize - 1) / chunkSize)));
        byte[] ds = dataset.getBytes(StandardCharsets.UTF_8);
        o.write(le(ds.length));
        o.write(ds);
        o.flush();
    }

    private static void check(String name, List<ActivationStats> experts) {
        if (experts.isEmpty()) {
            throw new IllegalArgumentException("ImatrixWriter: entry '" + name + "' has no statistics");
        }
        for (ActivationStats st : experts) {
            if (st.dIn() != experts.get(0).dIn()) {
                throw new IllegalArgumentException("ImatrixWriter: entry '" + name + "' mixes widths "
                        + experts.get(0).dIn() + " and " + st.dIn());
            }
        }
    }

    private static long maxCount(List<ActivationStats> experts) {
        long m = 0;
        for (ActivationStats st : experts) {
            m = Math.max(m, st.count());
        }
        return m;
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
