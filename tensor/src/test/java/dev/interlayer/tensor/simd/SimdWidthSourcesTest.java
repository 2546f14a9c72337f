package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Vec256/Vec128 and Vec256Unary/Vec128Unary are Vec512 and Vec512Unary with the width replaced (the Vector
 * API needs the species as a compile-time constant, so each width is its own class). This test fails when
 * they drift; run it with {@code -Dinterlayer.regenerate=true} to rewrite them from the masters. Each
 * generated file says so in its first line.
 */
class SimdWidthSourcesTest {
    private static final String MASTER_NOTE = " * MASTER COPY: %s256%s and %s128%s are generated from this file"
            + " (see SimdWidthSourcesTest); edit only this file.";

    static String generate(String master, String suffix, int bits) {
        String s = master.replace("Vec512", "Vec" + bits).replace("SPECIES_512", "SPECIES_" + bits)
                .replace("return 512;", "return " + bits + ";").replace("512-bit", bits + "-bit");
        String header = "// GENERATED from Vec512" + suffix + ".java by SimdWidthSourcesTest"
                + " (-Dinterlayer.regenerate=true); do not edit.\n";
        return header + withoutMasterNote(s);
    }

    // The master's note line is dropped from the copies; their first line says what they are instead.
    private static String withoutMasterNote(String s) {
        StringBuilder out = new StringBuilder();
        for (String line : s.split("\n", -1)) {
            if (!line.startsWith(" * MASTER COPY:")) {
                out.append(line).append('\n');
            }
        }
        return out.substring(0, out.length() - 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Unary"})
    void generatedWidthsMatchTheMaster(String suffix) throws IOException {
        Path dir = Path.of("src/main/java/dev/interlayer/tensor/simd");
        Path masterFile = dir.resolve("Vec512" + suffix + ".java");
        assumeTrue(Files.isRegularFile(masterFile),
                "sources not found from " + Path.of("").toAbsolutePath() + "; run from the tensor module");
        String master = Files.readString(masterFile);
        String note = MASTER_NOTE.formatted("Vec", suffix, "Vec", suffix);
        assertEquals(1, master.split(Pattern.quote(note), -1).length - 1, "master note present once in " + masterFile);
        for (int bits : new int[] {256, 128}) {
            Path p = dir.resolve("Vec" + bits + suffix + ".java");
            String expected = generate(master, suffix, bits);
            if (Boolean.getBoolean("interlayer.regenerate")) {
                Files.writeString(p, expected);
            }
            assertEquals(expected, Files.readString(p), p + " is out of date; rerun with -Dinterlayer.regenerate=true");
        }
    }
}
