package dev.interlayer.models.bert;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates {@code ../shared/models} (test data outside the repository): from env INTERLAYER_REPO_ROOT,
 * else the working directory and its parents. Missing data skips the test with a message, except when
 * env CI=true, where it fails.
 */
final class SharedModels {
    private SharedModels() {
    }

    /** Path of {@code relative} under shared/models; skips (or fails on CI) if absent. */
    static Path require(String relative) {
        Path found = find(relative);
        if (found == null) {
            String msg = "shared test data '" + relative + "' not found (looked in ../shared/models from "
                    + "INTERLAYER_REPO_ROOT and the working directory's parents)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(msg);
            }
            Assumptions.assumeTrue(false, msg);
        }
        return found;
    }

    private static Path find(String relative) {
        String root = System.getenv("INTERLAYER_REPO_ROOT");
        if (root != null) {
            Path p = Path.of(root).resolve("../shared/models").resolve(relative).normalize();
            if (Files.exists(p)) {
                return p;
            }
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("shared/models").resolve(relative);
            if (Files.exists(p)) {
                return p;
            }
            p = d.resolve("../shared/models").resolve(relative).normalize();
            if (Files.exists(p)) {
                return p;
            }
        }
        return null;
    }
}
