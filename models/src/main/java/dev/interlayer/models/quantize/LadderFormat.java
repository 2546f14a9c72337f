package dev.interlayer.models.quantize;

import dev.interlayer.models.io.GgufType;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.GridKind;
import dev.interlayer.quant.QuantScheme;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A rung of {@code --method mixed}'s ladder, or a {@code --format}: a grid the calibrated quantizers choose codes on,
 * with the GGUF type that stores it losslessly, or none. Every format here has groups of 32 columns and fp16
 * scales; bits per weight count the codes, the scale and a stored offset (never approximated: the summary uses
 * {@link dev.interlayer.quant.QuantizedLinear#bitsPerWeight} of the actual linears).
 * <ul>
 *   <li>{@code q8_0 q5_0 q5_1 q4_0 q4_1}: the GGML blocks of {@link GgmlBlocks} (8.5, 5.5, 6.0, 4.5, 5.0 bits);</li>
 *   <li>{@code i4}: 4-bit codes on GPTQ's symmetric grid ({@link GridKind#SYM}: scale {@code 2·max|w|/15}, zero 8),
 *       fp16 scale, 4.5 bits: GPTQ's symmetric grid with the zero fixed at 8 and not stored, no GGUF type;</li>
 *   <li>{@code i3}: 3-bit codes on the Q4_0-style signed-max grid (levels {@code −4…3}·d, the extreme exact),
 *       fp16 d, 3.5 bits; no GGUF type (llama.cpp has no 32-value 3-bit block);</li>
 *   <li>{@code i2}: 2-bit codes on the Q4_1-style offset grid ({@code x = d·q + m}, fp16 d and m), 3.0 bits; no GGUF
 *       type. (A 2-bit symmetric grid has only levels −2, −1, 0, 1: one sign gets a single non-zero level.)</li>
 * </ul>
 * GGUF's K-quants (Q2_K, Q3_K …) pack super-blocks of 256 values: a rung for one of them would have
 * {@code columnMultiple} 256, and a row whose width is not a multiple of it keeps a higher rung
 * ({@link dev.interlayer.quant.BitLadder} takes a NaN bit count as "does not fit"); none is offered yet because the
 * writer and the quantizers' grids for them do not exist.
 *
 * @param name           the name on the command line
 * @param scheme         the grid (clipping search: none; the caller sets it)
 * @param type           the GGUF type that stores it, or null
 * @param columnMultiple row widths it fits (its block)
 */
public record LadderFormat(String name, QuantScheme scheme, GgufType type, int columnMultiple) {
    /** The default ladder of {@code --method mixed} evaluated in memory: from 8.5 down to 3.0 bits per weight. */
    public static final String DEFAULT_LADDER = "q8_0,q5_0,q4_0,i3,i2";

    /** The default ladder when the result is written to a GGUF file: GGUF types only, 8.5 down to 4.5 bits. */
    public static final String GGUF_LADDER = "q8_0,q5_0,q4_0";

    /** Every name {@link #parse} accepts, for error messages. */
    public static final String NAMES = "q8_0, q5_0, q5_1, q4_0, q4_1 (GGUF blocks), i4, i3, i2 (plain grouped ints,"
            + " evaluated in memory only)";

    /** The format named {@code s} (case-insensitive). @throws IllegalArgumentException listing the names */
    public static LadderFormat parse(String s) {
        String n = s.strip().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "q8_0" -> gguf(n, 8, true);
            case "q5_0" -> gguf(n, 5, true);
            case "q5_1" -> gguf(n, 5, false);
            case "q4_0" -> gguf(n, 4, true);
            case "q4_1" -> gguf(n, 4, false);
            case "i4" -> plain(n, GridKind.SYM, 4);
            case "i3" -> plain(n, GridKind.SYM_SIGNED_MAX, 3);
            case "i2" -> plain(n, GridKind.ASYM_OFFSET, 2);
            default -> throw new IllegalArgumentException("unknown format '" + s + "'; supported: " + NAMES);
        };
    }

    /** A comma-separated ladder, highest bits first. @throws IllegalArgumentException naming a bad or repeated entry */
    public static List<LadderFormat> ladder(String list) {
        List<LadderFormat> out = new ArrayList<>();
        for (String s : list.split(",")) {
            LadderFormat f = parse(s);
            if (out.stream().anyMatch(o -> o.name.equals(f.name))) {
                throw new IllegalArgumentException("--ladder " + list + ": " + f.name + " is given twice");
            }
            if (!out.isEmpty() && f.bitsPerWeight() >= out.get(out.size() - 1).bitsPerWeight()) {
                throw new IllegalArgumentException("--ladder " + list + ": formats must go from most to fewest bits per"
                        + " weight; " + f.name + " (" + f.bitsPerWeight() + ") follows "
                        + out.get(out.size() - 1).name + " (" + out.get(out.size() - 1).bitsPerWeight() + ")");
            }
            out.add(f);
        }
        if (out.size() < 2) {
            throw new IllegalArgumentException("--ladder " + list + ": give at least two formats");
        }
        return out;
    }

    /** The same format with the clipping search {@code c}. */
    public QuantScheme scheme(ClipSearch c) {
        return scheme.withClip(c);
    }

    /** Bits per weight of a full group: codes, fp16 scale, and an fp16 offset or a code-wide zero if stored. */
    public double bitsPerWeight() {
        int g = scheme.groupSize();
        return scheme.bits() + (16.0 + (scheme.kind().storesOffset() ? 16 : 0)
                + (scheme.kind().storesZero() ? scheme.bits() : 0)) / g;
    }

    /** Whether rows of {@code cols} columns fit this format's blocks. */
    public boolean fits(int cols) {
        return cols % columnMultiple == 0;
    }

    /** e.g. {@code i3 (3-bit codes, groups of 32, fp16 scale; 3.50 bits per weight; no GGUF type)}. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (%d-bit codes, groups of %d, %s; %.2f bits per weight; %s)", name,
                scheme.bits(), scheme.groupSize(), scheme.kind().storesOffset() ? "fp16 scale and offset" : "fp16 scale",
                bitsPerWeight(), type == null ? "no GGUF type" : "GGUF " + type);
    }

    private static LadderFormat gguf(String name, int bits, boolean sym) {
        QuantScheme s = GgmlBlocks.scheme(bits, GgmlBlocks.GROUP, sym, ClipSearch.NONE);
        return new LadderFormat(name, s, GgmlBlocks.typeOf(s), GgmlBlocks.GROUP);
    }

    private static LadderFormat plain(String name, GridKind kind, int bits) {
        return new LadderFormat(name, new QuantScheme(kind, bits, GgmlBlocks.GROUP, ClipSearch.NONE,
                QuantScheme.ScaleFormat.F16), null, GgmlBlocks.GROUP);
    }

    /** The format of a quantized scheme (ignoring its clipping search), or null if none of {@link #NAMES} is it. */
    public static LadderFormat of(QuantScheme s) {
        for (String n : new String[] {"q8_0", "q5_0", "q5_1", "q4_0", "q4_1", "i4", "i3", "i2"}) {
            LadderFormat f = parse(n);
            if (f.scheme.equals(s.withClip(ClipSearch.NONE))) {
                return f;
            }
        }
        return null;
    }
}
