package dev.interlayer.tensor.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Vec256/Vec128 (and their Unary classes) are generated at build time from Vec512 by
 * {@code src/main/codegen/VecWidths.java}. Checks that each generated file says so in its first line and
 * names its generator and master, and that the compiled width class runs at its own width (the kernels
 * themselves are checked at every width by {@link SimdKernelsTest}).
 */
class GeneratedWidthsTest {
    @ParameterizedTest
    @ValueSource(ints = {128, 256})
    void generatedWidthClassesNameTheirGeneratorAndRunAtTheirWidth(int bits) throws IOException {
        assertEquals(bits, new SimdKernels(bits).bits());
        assertEquals("simd-" + bits, new SimdKernels(bits).name());
        Path dir = Path.of("target/generated-sources/vec-widths/dev/interlayer/tensor/simd");
        // Maven runs the generator in generate-sources before any test, so a missing folder is a build defect
        assertTrue(Files.isDirectory(dir), "generated sources not found from " + Path.of("").toAbsolutePath());
        for (String suffix : new String[] {"", "Unary"}) {
            Path p = dir.resolve("Vec" + bits + suffix + ".java");
            String text = Files.readString(p);
            String first = text.substring(0, text.indexOf('\n'));
            assertTrue(first.startsWith("// GENERATED") && first.contains("codegen/VecWidths.java")
                    && first.contains("from Vec512" + suffix + ".java"), p + " first line: " + first);
            String body = text.substring(first.length());
            assertTrue(!body.contains("Vec512") && !body.contains("SPECIES_512"),
                    p + " still names the 512-bit master");
        }
    }
}
