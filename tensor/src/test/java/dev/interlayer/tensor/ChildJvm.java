package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's {@code main} in a fresh JVM: test probes (allocation per decoded token, measured in a JVM of
 * their own) and, with a forced vector width ({@code -Ddev.interlayer.simd.bits}; the kernels' species are
 * JVM-wide constants), the width sweeps of the GEMM and quantized kernels.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Waits for a child JVM, killing it when it has used {@code seconds} × (available processors) of CPU time,
     * i.e. {@code seconds} of wall time with every core busy (if the OS does not report the child's CPU time:
     * {@code seconds} of wall time), or has run for {@code 20 × seconds} of wall time (a child that hangs without
     * using the CPU). A wall-clock limit alone failed on a shared 2-core machine: at load average 26 a GemmCheck
     * child that needs 14 s of CPU took 181 s. Returns whether it exited.
     */
    public static boolean waitFor(Process p, long seconds) throws InterruptedException {
        long start = System.nanoTime();
        double cpuBudget = (double) seconds * Runtime.getRuntime().availableProcessors();
        while (!p.waitFor(1, TimeUnit.SECONDS)) {
            double wall = (System.nanoTime() - start) / 1e9;
            var cpuTime = p.info().totalCpuDuration();
            boolean over = cpuTime.isPresent() ? cpuTime.get().toMillis() / 1e3 > cpuBudget : wall > seconds;
            if (over || wall > 20.0 * seconds) {
                p.destroyForcibly().waitFor();
                return false;
            }
        }
        return true;
    }

    /**
     * This JVM's {@code dev.interlayer.*} system properties other than {@code except}, as {@code -D} options, so that
     * a kernel switch set for a test run (e.g. {@code -Ddev.interlayer.q4_0.blockscale=true}) reaches its children.
     */
    static List<String> forwardedProperties(String except) {
        List<String> out = new ArrayList<>();
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("dev.interlayer.") && !key.equals(except)) {
                out.add("-D" + key + "=" + System.getProperty(key));
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Runs {@code main args} in a fresh JVM with this JVM's module, native-access and -X options, then
     * {@code jvmOptions}, on this JVM's class path; asserts that it exits with 0 within {@code cpuSeconds} of CPU
     * time per core ({@link #waitFor}) and returns its output. The output goes to a file, not a pipe: a probe that
     * hangs is killed at the limit instead of blocking a read.
     */
    public static String run(Class<?> main, List<String> jvmOptions, long cpuSeconds, List<String> args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-modules") || arg.startsWith("--enable-native-access") || arg.startsWith("-X")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(forwardedProperties(""));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        Path log = Files.createTempFile("probe", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = waitFor(p, cpuSeconds);
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(done, () -> "probe " + main.getSimpleName() + " did not finish in " + cpuSeconds
                    + " s of CPU time per core:\n" + output);
            assertEquals(0, p.exitValue(), () -> "probe " + main.getSimpleName() + " failed:\n" + output);
            return output;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * Runs {@code mainClass args} with {@code -Ddev.interlayer.simd.bits=bits} and this JVM's class path,
     * asserts it exits with 0 within 120 s of CPU time per core ({@link #waitFor}), and returns its output.
     */
    public static String runWithBits(int bits, String mainClass, String... args)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-ea"));
        cmd.addAll(forwardedProperties("dev.interlayer.simd.bits"));
        cmd.addAll(List.of("-Ddev.interlayer.simd.bits=" + bits, "-cp", System.getProperty("java.class.path"),
                mainClass));
        cmd.addAll(List.of(args));
        // Output goes to a file so the timeout below can fire: reading the pipe first would block until exit.
        Path log = Files.createTempFile("widths-" + bits, ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean exited = waitFor(p, 120);
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
