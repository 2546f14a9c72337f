package dev.interlayer.nn;

import java.util.List;

/**
 * Where a {@link LinearTap} observes the input rows of a block's linear layers. One site is the shared
 * input of every linear listed by {@link #linears()} (q, k and v read the same normed rows), so a
 * calibration statistic such as the GPTQ Hessian 2XᵀX/N is collected once per site.
 */
public enum LinearSite {
    /** The attention input: read by the query, key and value projections. */
    ATTN_QKV("attn_qkv", List.of("attn_q", "attn_k", "attn_v")),
    /** The concatenated per-head attention outputs: read by the output projection. */
    ATTN_OUTPUT("attn_output", List.of("attn_output")),
    /** The feed-forward input: read by the up projection (and the gate projection of a gated MLP). */
    FFN_IN("ffn_up", List.of("ffn_gate", "ffn_up")),
    /** The feed-forward hidden activation (act(gate)⊙up, or act(up)): read by the down projection. */
    FFN_DOWN("ffn_down", List.of("ffn_down"));

    private final String key;
    private final List<String> linears;

    LinearSite(String key, List<String> linears) {
        this.key = key;
        this.linears = linears;
    }

    /** A short stable name of the site, GGUF style ({@code attn_qkv}, {@code attn_output}, {@code ffn_up}, {@code ffn_down}). */
    public String key() {
        return key;
    }

    /** The GGUF-style names of the linears that read this site's rows (ffn_gate only exists in gated MLPs). */
    public List<String> linears() {
        return linears;
    }

    /** The site read by the linear named {@code linear} (GGUF style, e.g. {@code attn_k} → ATTN_QKV). */
    public static LinearSite of(String linear) {
        for (LinearSite s : values()) {
            if (s.linears.contains(linear)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no linear site reads '" + linear + "'; known linears: attn_q, attn_k, "
                + "attn_v, attn_output, ffn_gate, ffn_up, ffn_down");
    }
}
