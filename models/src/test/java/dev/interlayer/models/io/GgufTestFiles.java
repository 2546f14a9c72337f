package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared/models} for tests: from env {@code INTERLAYER_REPO_ROOT} (set by Surefire),
 * else from the working directory's parents. When absent, tests are skipped with a message, except
 * under {@code CI=true}, where they fail.
 */
public final class GgufTestFiles {
    private GgufTestFiles() {
    }

    /** The shared models folder, or skip/fail if it cannot be found. */
    public static Path sharedModels() {
        Path found = find();
        if (found == null) {
            String msg = "../shared/models not found (set INTERLAYER_REPO_ROOT); model-file tests skipped";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(msg);
            }
            assumeTrue(false, msg);
        }
        return found;
    }

    /** A file under the shared models folder, which must exist (skip/fail as above otherwise). */
    public static Path model(String relative) {
        Path p = sharedModels().resolve(relative);
        if (!Files.isRegularFile(p)) {
            String msg = "test model " + p + " is missing";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(msg);
            }
            assumeTrue(false, msg);
        }
        return p;
    }

    private static Path find() {
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
