package dev.interlayer.models.io;

import dev.interlayer.tensor.BlockGeometry;
import dev.interlayer.tensor.DType;

/**
 * GGML tensor types as stored in GGUF tensor infos, with their stable numeric ids (ggml's
 * {@code enum ggml_type}) and storage geometry: {@code blockSize} values in {@code blockBytes} bytes, taken from
 * the {@link DType} where there is one.
 *
 * <p>Every id a GGUF file may carry is listed so {@code inspect} can name it; only some have a
 * {@link DType} that {@link GgufFile#tensor} can hand out (see {@link #dtype()}).
 */
public enum GgufType implements BlockGeometry.Typed {
    F32(0, DType.F32),
    F16(1, DType.F16),
    Q4_0(2, DType.Q4_0),
    Q4_1(3, DType.Q4_1),
    Q5_0(6, DType.Q5_0),
    Q5_1(7, DType.Q5_1),
    Q8_0(8, DType.Q8_0),
    Q8_1(9, 32, 36),
    Q2_K(10, DType.Q2_K),
    Q3_K(11, DType.Q3_K),
    Q4_K(12, DType.Q4_K),
    Q5_K(13, DType.Q5_K),
    Q6_K(14, DType.Q6_K),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, DType.IQ4_NL),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, DType.IQ4_XS),
    I8(24, DType.I8),
    I16(25, 1, 2),
    I32(26, DType.I32),
    I64(27, DType.I64),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, DType.BF16),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17);

    private static final GgufType[] BY_ID = new GgufType[40];

    static {
        for (GgufType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final BlockGeometry geometry;
    private final DType dtype;

    // a type Interlayer reads: its geometry is the dtype's
    GgufType(int id, DType dtype) {
        this.id = id;
        this.geometry = dtype.geometry();
        this.dtype = dtype;
    }

    // a type Interlayer can only name: ggml's blck_size and type_size
    GgufType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.geometry = new BlockGeometry(blockSize, blockBytes);
        this.dtype = null;
    }

    /** The ggml type id stored in the file. */
    public int id() {
        return id;
    }

    @Override
    public BlockGeometry geometry() {
        return geometry;
    }

    /** The matching tensor dtype, or null if Interlayer has none. */
    public DType dtype() {
        return dtype;
    }

    /** The type with ggml id {@code id}, or null if unknown. */
    public static GgufType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }
}
