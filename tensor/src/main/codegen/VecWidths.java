import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Build-time generator of the per-width vector classes: writes Vec256, Vec128, Vec256Unary and Vec128Unary
 * from the masters Vec512 and Vec512Unary (tensor/src/main/java/dev/interlayer/tensor/simd) by replacing the
 * width. The Vector API intrinsifies only a species that is a compile-time constant (an instance-field species
 * measured ~45x slower), so each width must be its own class; generating them keeps one copy in the tree.
 *
 * <p>Run by Maven (tensor/pom.xml, phase generate-sources) as a single-file program:
 * {@code java VecWidths.java MASTER_DIR OUT_DIR}; OUT_DIR is added as a source root. Plain Java 17 so that
 * it also runs when Maven's own JDK is older than the project's toolchain.
 */
public final class VecWidths {
    private static final String PACKAGE_DIR = "dev/interlayer/tensor/simd";
    private static final String MASTER_NOTE = " * MASTER COPY:";

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: java VecWidths.java MASTER_SOURCE_ROOT OUT_SOURCE_ROOT, got "
                    + args.length + " arguments");
        }
        Path masters = Path.of(args[0]).resolve(PACKAGE_DIR);
        Path out = Path.of(args[1]).resolve(PACKAGE_DIR);
        Files.createDirectories(out);
        for (String suffix : new String[] {"", "Unary"}) {
            Path master = masters.resolve("Vec512" + suffix + ".java");
            String text = Files.readString(master);
            if (!text.contains(MASTER_NOTE)) {
                throw new IllegalStateException(master + ": the master note line '" + MASTER_NOTE + " ...' is missing");
            }
            for (int bits : new int[] {256, 128}) {
                Path target = out.resolve("Vec" + bits + suffix + ".java");
                String generated = generate(text, suffix, bits);
                // Left alone when unchanged, so the compiler's staleness check does not rebuild the module.
                if (!Files.isRegularFile(target) || !Files.readString(target).equals(generated)) {
                    Files.writeString(target, generated);
                }
            }
        }
    }

    /** The master with its width replaced by {@code bits}, its note line dropped and a first line saying so. */
    static String generate(String master, String suffix, int bits) {
        String s = master.replace("Vec512", "Vec" + bits).replace("SPECIES_512", "SPECIES_" + bits)
                .replace("return 512;", "return " + bits + ";").replace("512-bit", bits + "-bit");
        StringBuilder b = new StringBuilder("// GENERATED at build time from Vec512" + suffix
                + ".java by tensor/src/main/codegen/VecWidths.java; do not edit.\n");
        for (String line : s.split("\n", -1)) {
            if (!line.startsWith(MASTER_NOTE)) {
                b.append(line).append('\n');
            }
        }
        return b.substring(0, b.length() - 1);
    }
}
