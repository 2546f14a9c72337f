package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/**
 * Runs a test probe's {@code main} in a fresh JVM ({@link dev.interlayer.tensor.ChildJvm#run}, limit 120 s of
 * CPU time per core) and reads the number it prints.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** Runs {@code main} with {@code args}; fails naming the output unless it exits with 0 within the limit. */
    public static String run(Class<?> main, List<String> jvmOptions, String... args) throws Exception {
        return dev.interlayer.tensor.ChildJvm.run(main, jvmOptions, 120, List.of(args));
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
        return measured(List.of(), main, key, args);
    }

    /** As {@link #measured(Class, String, String...)} with {@code jvmOptions} for the child JVM. */
    public static Measured measured(List<String> jvmOptions, Class<?> main, String key, String... args)
            throws Exception {
        String output = run(main, jvmOptions, args);
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
