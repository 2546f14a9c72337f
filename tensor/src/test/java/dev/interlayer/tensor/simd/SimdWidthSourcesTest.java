package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Vec256 and Vec128 are Vec512 with the width replaced (the Vector API needs the species as a
 * compile-time constant, so each width is its own class). This test fails when they drift; run it with
 * {@code -Dinterlayer.regenerate=true} to rewrite them from the master.
 */
class SimdWidthSourcesTest {
    private static final String MASTER_NOTE =
            " * MASTER COPY: Vec256 and Vec128 are generated from this file (see SimdWidthSourcesTest); edit only this file.";

    static String generate(String master, int bits) {
        String s = master.replace("Vec512", "Vec" + bits).replace("SPECIES_512", "SPECIES_" + bits)
                .replace("return 512;", "return " + bits + ";").replace("512-bit", bits + "-bit");
        return s.replace(MASTER_NOTE, " * GENERATED from Vec512.java by SimdWidthSourcesTest; do not edit.");
    }

    @Test
    void generatedWidthsMatchTheMaster() throws IOException {
        Path dir = Path.of("src/main/java/dev/interlayer/tensor/simd");
        assumeTrue(Files.isRegularFile(dir.resolve("Vec512.java")),
                "sources not found from " + Path.of("").toAbsolutePath() + "; run from the tensor module");
        String master = Files.readString(dir.resolve("Vec512.java"));
        assertEquals(1, master.split(java.util.regex.Pattern.quote(MASTER_NOTE), -1).length - 1, "master note present once");
        for (int bits : new int[] {256, 128}) {
            Path p = dir.resolve("Vec" + bits + ".java");
            String expected = generate(master, bits);
            if (Boolean.getBoolean("interlayer.regenerate")) {
                Files.writeString(p, expected);
            }
            assertEquals(expected, Files.readString(p), p + " is out of date; rerun with -Dinterlayer.regenerate=true");
        }
    }
}
