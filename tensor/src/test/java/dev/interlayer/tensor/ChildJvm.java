package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's {@code main} in a fresh JVM with a forced vector width ({@code -Ddev.interlayer.simd.bits};
 * the kernels' species are JVM-wide constants), for the width sweeps of the GEMM and quantized kernels.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Runs {@code mainClass args} with {@code -Ddev.interlayer.simd.bits=bits} and this JVM's class path,
     * asserts it exits with 0 within 120 s, and returns its output.
     */
    public static String runWithBits(int bits, String mainClass, String... args)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-ea",
                "-Ddev.interlayer.simd.bits=" + bits, "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        // Output goes to a file so the timeout below can fire: reading the pipe first would block until exit.
        Path log = Files.createTempFile("widths-" + bits, ".log");
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
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
