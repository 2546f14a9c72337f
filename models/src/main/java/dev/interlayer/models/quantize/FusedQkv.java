package dev.interlayer.models.quantize;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.quant.QuantizedLinear;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fused query/key/value projection ({@code blk.L.attn_qkv.weight [(H + 2·KV)·d_h, d]}, GPT-2's, rows q then k then
 * v) treated as its three row blocks for the attention-aware quantizers (BoA, aespa): q's rows
 * {@code [0, H·d_h)} with H query heads, k's {@code [H·d_h, (H + KV)·d_h)} and v's with KV heads each. The blocks
 * are named {@code blk.L.attn_q.weight}, {@code blk.L.attn_k.weight}, {@code blk.L.attn_v.weight} while they are
 * quantized, so that {@link HeadFactors} and the per-head row factors find them as for separate projections; the
 * three results are then stacked back into the fused tensor's rows ({@link QuantizedLinear#stackRows}, the GGUF
 * tensor's row order). Every block is one row range of the layer's float weights, copied once; the quantizers see
 * exactly the numbers the separate projections would hold, so the codes are those of an unfused model.
 */
final class FusedQkv {
    /** The fused projection's GGUF name without {@code blk.L.} and {@code .weight}. */
    static final String NAME = "attn_qkv";
    private static final String SUFFIX = NAME + ".weight";

    private FusedQkv() {
    }

    /**
     * {@code linears} with each fused projection replaced by its q, k and v blocks, in that order (unchanged if there
     * is none, or if its rows are not {@code (heads + 2·kvHeads)·headDim} of {@code ac}).
     */
    static List<SiteQuantizer.Linear> split(List<SiteQuantizer.Linear> linears, AttentionConfig ac) {
        int q = ac.heads() * ac.headDim(), kv = ac.kvHeads() * ac.headDim();
        List<SiteQuantizer.Linear> out = new ArrayList<>();
        for (SiteQuantizer.Linear lin : linears) {
            if (!lin.name().endsWith("." + SUFFIX) || lin.rows() != q + 2 * kv) {
                out.add(lin);
                continue;
            }
            String p = lin.name().substring(0, lin.name().length() - SUFFIX.length());
            out.add(rows(lin, p + "attn_q.weight", 0, q, ac.heads()));
            out.add(rows(lin, p + "attn_k.weight", q, kv, ac.kvHeads()));
            out.add(rows(lin, p + "attn_v.weight", q + kv, kv, ac.kvHeads()));
        }
        return out;
    }

    /**
     * The result for {@code linears} from {@code r}, the result for {@link #split}{@code (linears)}: the q, k and v
     * results of a fused projection stacked back into one, in row order.
     */
    static SiteQuantizer.Result join(List<SiteQuantizer.Linear> linears, List<SiteQuantizer.Linear> parts,
                                     SiteQuantizer.Result r) {
        if (parts.size() == linears.size()) {
            return r;
        }
        List<QuantizedLinear> out = new ArrayList<>();
        int j = 0;
        for (SiteQuantizer.Linear lin : linears) {
            if (parts.get(j).name().equals(lin.name())) {
                out.add(r.weights().get(j++));
            } else {
                out.add(QuantizedLinear.stackRows(r.weights().subList(j, j + 3)));
                j += 3;
            }
        }
        return new SiteQuantizer.Result(out, r.inputScales());
    }

    // rows [r0, r0 + n) of lin as a linear of its own
    private static SiteQuantizer.Linear rows(SiteQuantizer.Linear lin, String name, int r0, int n, int heads) {
        int cols = lin.cols();
        return new SiteQuantizer.Linear(name, Arrays.copyOfRange(lin.w(), r0 * cols, (r0 + n) * cols), n, cols, heads);
    }
}
