package dev.interlayer.quant;

import dev.interlayer.nn.LinearSite;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * Bridges the engine's forward hook ({@link LinearTap}) to a {@link CalibrationSink}: every observed site
 * becomes {@code sink.accept(name, rows, n, dIn, keep)} under a GGUF-style name of the shared input,
 * {@code blk.<layer>.<site>} ({@link #name}); rows of padding tokens are dropped through the current mask.
 * One name per input, so layers that read one input (q, k, v; gate, up) share one Hessian. Not thread-safe.
 */
public final class CalibrationTap implements LinearTap {
    private final CalibrationSink sink;
    private final Map<Long, String> names = new HashMap<>();
    private boolean[] keep;

    /** A tap that forwards to {@code sink}. */
    public CalibrationTap(CalibrationSink sink) {
        if (sink == null) {
            throw new IllegalArgumentException("CalibrationTap: sink is null");
        }
        this.sink = sink;
    }

    /**
     * Sets the padding mask of the next forward calls ({@code keep[t]} false = padding; null = all rows count).
     * It applies to dense sites; routed expert rows are a subset of tokens and always count (encoders with
     * padding have no mixture-of-experts layers).
     */
    public void keep(boolean[] mask) {
        this.keep = mask;
    }

    /**
     * The statistics key of a site: {@code blk.L.attn_qkv}, {@code blk.L.attn_output}, {@code blk.L.ffn_up}
     * (input of ffn_gate and ffn_up), {@code blk.L.ffn_down}; MoE experts append {@code .e}, the shared expert
     * {@code _shexp} (as GGUF names it).
     */
    public static String name(int layer, LinearSite site, int expert) {
        String base = "blk." + layer + "." + site.key();
        return expert == SHARED_EXPERT ? base + "_shexp" : expert >= 0 ? base + "." + expert : base;
    }

    /**
     * The statistics key that holds the input of the linear {@code blk.L.<linear>[.e]} named GGUF style
     * (e.g. {@code blk.3.attn_k} → {@code blk.3.attn_qkv}, {@code blk.0.ffn_gate.5} → {@code blk.0.ffn_up.5}).
     *
     * @throws IllegalArgumentException if the name is not of that form
     */
    public static String keyOf(String linearName) {
        String[] p = linearName.split("\\.");
        if (p.length < 3 || p.length > 4 || !p[0].equals("blk")) {
            throw new IllegalArgumentException("linear name '" + linearName + "': expected blk.<layer>.<linear>[.<expert>]");
        }
        boolean shexp = p[2].endsWith("_shexp");
        LinearSite site = LinearSite.of(shexp ? p[2].substring(0, p[2].length() - 6) : p[2]);
        int expert = shexp ? SHARED_EXPERT : p.length == 4 ? Integer.parseInt(p[3]) : -1;
        return name(Integer.parseInt(p[1]), site, expert);
    }

    @Override
    public void observe(int layer, LinearSite site, int expert, Tensor rows) {
        long id = ((long) layer << 32) | ((long) site.ordinal() << 24) | (expert & 0xFFFFFFL);
        String name = names.computeIfAbsent(id, k -> name(layer, site, expert));
        int n = rows.dim(0), dIn = rows.dim(1);
        boolean[] mask = expert == -1 ? keep : null;
        if (mask != null && mask.length != n) {
            throw new IllegalArgumentException("CalibrationTap: padding mask of " + mask.length + " entries for "
                    + n + " rows at " + name);
        }
        sink.accept(name, rowMajor(rows, n * dIn), n, dIn, mask);
    }

    // The rows as an array starting at index 0: the session buffer itself when it is one, else a copy.
    private static float[] rowMajor(Tensor rows, int size) {
        float[] heap = rows.heapFloats();
        if (heap != null && rows.isContiguous() && rows.segment().address() / Float.BYTES + rows.offset() == 0) {
            return heap;
        }
        return rows.toFloatArray();
    }
}
