package dev.interlayer.models.cli;

import dev.interlayer.tensor.ComputePool;
import picocli.CommandLine.Option;

// picocli mixin: the --threads option of the commands that run a model (hidden, logits, generate).
final class ThreadsOption {
    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    // Sizes ComputePool when --threads was given; otherwise leaves the default (all cores).
    void apply() {
        if (threads != null) {
            ComputePool.setThreads(threads);
        }
    }
}
