package dev.interlayer.models;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates {@code ../shared/models} (test data outside the repository) for every test in {@code models}: from env
 * {@code INTERLAYER_REPO_ROOT} (set by Surefire to the repository root), else the working directory and its
 * parents. Missing data skips the test with a message, except under env {@code CI=true}, where it fails.
 */
public final class SharedModels {
    private SharedModels() {
    }

    /** The shared models folder; skips (or fails on CI) if it cannot be found. */
    public static Path root() {
        Path found = findRoot();
        if (found == null) {
            missing("../shared/models not found (looked from INTERLAYER_REPO_ROOT and the working directory's "
                    + "parents)");
        }
        return found;
    }

    /** Path of the file or folder {@code relative} under the shared models folder; skips (or fails on CI) if absent. */
    public static Path require(String relative) {
        Path p = root().resolve(relative).normalize();
        if (!Files.exists(p)) {
            missing("shared test data '" + relative + "' not found at " + p);
        }
        return p;
    }

    private static void missing(String msg) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(msg);
        }
        Assumptions.assumeTrue(false, msg);
    }

    private static Path findRoot() {
        String env = System.getenv("INTERLAYER_REPO_ROOT");
        if (env != null) {
            Path p = Path.of(env).toAbsolutePath().resolve("../shared/models").normalize();
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("../shared/models").normalize();
            if (Files.isDirectory(p)) {
                return p;
            }
            p = d.resolve("shared/models");
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }
}
