package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a test probe's {@code main} in a fresh JVM with this JVM's module and -X options (plus extra ones)
 * and the test class path; returns its output. Output goes to a file, not a pipe: a probe that hangs is
 * killed at the timeout instead of blocking a read.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** Runs {@code main} with {@code args}; fails naming the output unless it exits with 0 within the limit. */
    public static String run(Class<?> main, List<String> jvmOptions, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-modules") || arg.startsWith("--enable-native-access") || arg.startsWith("-X")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        java.io.File log = java.io.File.createTempFile("nn-probe", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
            boolean done = dev.interlayer.tensor.ChildJvm.waitFor(p, 120);
            String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
            assertTrue(done, "probe did not finish in 120 s of CPU time per core:\n" + output);
            assertEquals(0, p.exitValue(), "probe failed:\n" + output);
            return output;
        } finally {
            Files.deleteIfExists(log.toPath());
        }
    }

    /** The number a probe printed as {@code key=N}, and the probe's whole output (for failure messages). */
    public record Measured(long value, String output) {
        /** The probe's first "warm-up" line, or "" without one. */
        public String warmUp() {
            return output.lines().filter(l -> l.startsWith("warm-up")).findFirst().orElse("");
        }
    }

    /** Runs the probe and reads the number it printed as {@code key=N} (fails naming the output without one). */
    public static Measured measured(Class<?> main, String key, String... args) throws Exception {
        String output = run(main, List.of(), args);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(key + "=(\\d+)").matcher(output);
        assertTrue(m.find(), "no " + key + " in probe output:\n" + output);
        return new Measured(Long.parseLong(m.group(1)), output);
    }

    /**
     * Runs the probe and returns the number it printed as {@code key=N}, after echoing its "warm-up" line with
     * {@code label} (fails naming the probe output when there is none).
     */
    public static long measure(Class<?> main, String key, String label, String... args) throws Exception {
        Measured m = measured(main, key, args);
        System.out.println(label + " " + m.warmUp());
        return m.value();
    }
}
