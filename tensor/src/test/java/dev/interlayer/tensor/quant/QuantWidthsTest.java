package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Quantized kernels == oracle at every forced vector width (16-byte code groups widen to 1, 2 or 4
 * float vectors). The species is a JVM-wide constant (see {@code quant.vector.QSpecies}), so each width
 * runs {@link QuantCheck#main} in its own JVM with {@code -Ddev.interlayer.simd.bits=W}; 0 is the
 * scalar fallback. The preferred width is also swept in-process by {@link QuantMatMulTest}.
 */
class QuantWidthsTest {

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {0, 128, 256, 512})
    void forcedWidthMatchesOracle(int bits) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "--add-modules", "jdk.incubator.vector", "-ea",
                "-Ddev.interlayer.simd.bits=" + bits, "-cp", System.getProperty("java.class.path"),
                QuantCheck.class.getName());
        // Output goes to a file so the timeout below can fire: reading the pipe first would block until exit.
        Path log = Files.createTempFile("quant-widths-" + bits, ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean exited = p.waitFor(120, TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(exited, () -> "child JVM timed out; output so far:\n" + out);
            System.out.println("bits=" + bits + ": " + out.lines()
                    .filter(l -> l.startsWith("OK") || l.startsWith("FAIL")).findFirst().orElse(out));
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("OK kernel=" + (bits == 0 ? "scalar" : "simd-" + bits)), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
