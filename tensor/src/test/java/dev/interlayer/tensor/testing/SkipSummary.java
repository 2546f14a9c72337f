package dev.interlayer.tensor.testing;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints one line per module and reason when tests were skipped, e.g. {@code [models] 79 tests skipped:
 * ../shared/models not found}, so a run without the shared test data says so on the console instead of only
 * in Surefire's XML. Registered with the JUnit Platform through {@code META-INF/services} in this module's test
 * jar, which every other module has on its test class path. Skips are disabled tests and tests whose
 * assumption failed (the shared-data helpers skip that way); the reason is the first line of the message, with
 * the file a shared-data message names folded away so one missing folder gives one line.
 */
public final class SkipSummary implements TestExecutionListener {
    private final Map<String, AtomicInteger> reasons = new ConcurrentHashMap<>();
    private volatile TestPlan plan;

    /** Created by the JUnit Platform's service loader. */
    public SkipSummary() {
    }

    @Override
    public void testPlanExecutionStarted(TestPlan plan) {
        this.plan = plan;
        reasons.clear();
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        add(id, reason == null ? "disabled" : reason);
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            add(id, result.getThrowable().map(Throwable::getMessage).orElse("assumption failed"));
        }
    }

    // A skipped test counts one; a skipped class (a failed assumption in @BeforeAll) counts the tests in it.
    private void add(TestIdentifier id, String reason) {
        long n = id.isTest() ? 1 : Math.max(1, plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count());
        if (id.isTest() || id.isContainer()) {
            reasons.computeIfAbsent(fold(reason), k -> new AtomicInteger()).addAndGet((int) n);
        }
    }

    /** The first line of the message; messages about missing shared test data collapse into one reason. */
    static String fold(String message) {
        String s = message == null || message.isBlank() ? "assumption failed" : message.lines().findFirst().orElse("");
        s = s.replaceFirst("^Assumption failed: ", "");
        if (s.contains("../shared/models not found") || s.startsWith("shared test data")) {
            return "../shared/models (test data outside the repository) not found; CI=true makes these fail";
        }
        return s;
    }

    @Override
    public void testPlanExecutionFinished(TestPlan plan) {
        String module = Path.of("").toAbsolutePath().getFileName().toString();
        for (Map.Entry<String, AtomicInteger> e : new TreeMap<>(reasons).entrySet()) {
            int n = e.getValue().get();
            System.out.println("[" + module + "] " + n + (n == 1 ? " test" : " tests") + " skipped: " + e.getKey());
        }
        System.out.flush();
    }
}
