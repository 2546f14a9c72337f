import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Build-time generator of GemmStrideKernels: one copy of the weight-stream GEMM's 12-row × 2-vector micro-kernel
 * (GemmDirectKernel.micro2Any, in tensor/src/main/java/dev/interlayer/tensor/simd) per common weight row stride,
 * with the stride a literal, and a switch that picks the copy for a stride (false for any other stride).
 *
 * <p>Why: with the stride a runtime value, the 12 row addresses are 12 live general registers (b + r·stride), more
 * than C2 has free next to the loop's own; it reloads some from the stack every k step. With a literal stride
 * they are one register plus constant displacements (r·stride·4 fits the 32-bit displacement of x86-64 addressing).
 * Each copy does the same loads and the same FMAs in the same order as micro2Any, so results are bit for bit the
 * same. The strides are the weight row lengths (k) of common transformer shapes.
 *
 * <p>Run by Maven (tensor/pom.xml, phase generate-sources) as a single-file program:
 * {@code java GemmStrides.java OUT_DIR}; OUT_DIR is added as a source root. Plain Java 17 so that it also runs
 * when Maven's own JDK is older than the project's toolchain.
 */
public final class GemmStrides {
    private static final String PACKAGE_DIR = "dev/interlayer/tensor/simd";
    /** Hidden sizes and MLP widths of common transformers (BERT/MiniLM 768 … Llama-2-7B 11008, Mistral 14336). */
    static final int[] STRIDES = {768, 1024, 1536, 2048, 2560, 3072, 4096, 5120, 6144, 8192, 11008, 14336};
    private static final int ROWS = 12;

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: java GemmStrides.java OUT_SOURCE_ROOT, got " + args.length
                    + " arguments");
        }
        Path out = Path.of(args[0]).resolve(PACKAGE_DIR);
        Files.createDirectories(out);
        Path target = out.resolve("GemmStrideKernels.java");
        String generated = generate();
        // Left alone when unchanged, so the compiler's staleness check does not rebuild the module.
        if (!Files.isRegularFile(target) || !Files.readString(target).equals(generated)) {
            Files.writeString(target, generated);
        }
    }

    static String generate() {
        StringBuilder b = new StringBuilder();
        b.append("// GENERATED at build time by tensor/src/main/codegen/GemmStrides.java; do not edit.\n");
        b.append("package dev.interlayer.tensor.simd;\n\n");
        b.append("import static dev.interlayer.tensor.simd.GemmSpecies.F;\n");
        b.append("import static dev.interlayer.tensor.simd.GemmSpecies.VL;\n\n");
        b.append("import java.lang.foreign.MemorySegment;\n");
        b.append("import java.lang.foreign.ValueLayout;\n");
        b.append("import jdk.incubator.vector.FloatVector;\n\n");
        b.append("/**\n");
        b.append(" * {@link GemmDirectKernel#micro2Any} for 12 whole weight rows, one copy per common row\n");
        b.append(" * stride (a literal in each copy, so C2 addresses the 12 rows from one register with constant\n");
        b.append(" * displacements instead of keeping 12 row pointers). Same loads and FMAs in the same order\n");
        b.append(" * as micro2Any: bit for bit its results.\n");
        b.append(" */\n");
        b.append("final class GemmStrideKernels {\n");
        b.append("    /** The row strides (in floats) that have a copy. */\n");
        b.append("    static final int[] STRIDES = {");
        for (int i = 0; i < STRIDES.length; i++) {
            b.append(i == 0 ? "" : ", ").append(STRIDES[i]);
        }
        b.append("};\n");
        b.append("    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;\n\n");
        b.append("    private GemmStrideKernels() {\n    }\n\n");
        b.append("    /**\n");
        b.append("     * micro2Any(kc, w, w0, ldw, 12, xp, xi, tile) by the copy for ldw, if there is one;\n");
        b.append("     * false (tile untouched) if there is none.\n");
        b.append("     */\n");
        b.append("    static boolean micro2(int kc, MemorySegment w, long w0, long ldw, float[] xp, int xi,\n");
        b.append("                          float[] tile) {\n");
        b.append("        if (ldw != (int) ldw) {\n            return false;\n        }\n");
        b.append("        switch ((int) ldw) {\n");
        for (int s : STRIDES) {
            b.append("            case ").append(s).append(" -> s").append(s).append("(kc, w, w0, xp, xi, tile);\n");
        }
        b.append("            default -> {\n                return false;\n            }\n");
        b.append("        }\n        return true;\n    }\n");
        for (int s : STRIDES) {
            kernel(b, s);
        }
        b.append("}\n");
        return b.toString();
    }

    /** The copy for stride s: W row r at element w0 + r·s, byte offset (w0 + p)·4 + r·s·4 at k step p. */
    private static void kernel(StringBuilder b, int s) {
        b.append("\n    /** micro2Any for 12 rows of stride ").append(s).append(". */\n");
        b.append("    static void s").append(s)
                .append("(int kc, MemorySegment w, long w0, float[] xp, int xi, float[] tile) {\n");
        b.append("        int nr = 2 * VL;\n");
        b.append("        long base = w0 << 2;\n");
        b.append("        FloatVector z = FloatVector.zero(F);\n");
        for (int r = 0; r < ROWS; r++) {
            b.append("        FloatVector a").append(r).append(" = z, b").append(r).append(" = z;\n");
        }
        b.append("        for (int p = 0; p < kc; p++, xi += nr) {\n");
        b.append("            long q = base + ((long) p << 2);\n");
        b.append("            FloatVector x0 = FloatVector.fromArray(F, xp, xi);\n");
        b.append("            FloatVector x1 = FloatVector.fromArray(F, xp, xi + VL);\n");
        b.append("            FloatVector v;\n");
        for (int r = 0; r < ROWS; r++) {
            long disp = 4L * r * s;
            b.append("            v = FloatVector.broadcast(F, w.get(F32, q")
                    .append(r == 0 ? "" : " + " + disp + "L").append("));\n");
            b.append("            a").append(r).append(" = v.fma(x0, a").append(r).append(");\n");
            b.append("            b").append(r).append(" = v.fma(x1, b").append(r).append(");\n");
        }
        b.append("        }\n");
        for (int r = 0; r < ROWS; r++) {
            b.append("        a").append(r).append(".intoArray(tile, ").append(r).append(" * nr);\n");
            b.append("        b").append(r).append(".intoArray(tile, ").append(r).append(" * nr + VL);\n");
        }
        b.append("    }\n");
    }
}
