package dev.interlayer.models.cli;

import dev.interlayer.tensor.ComputePool;
import picocli.CommandLine.Option;

// picocli mixin: the --threads option of the commands that run a model (hidden, logits, generate).
final class ThreadsOption {
    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    // Checks --threads and sizes ComputePool when it was given (else the default, all cores); call before loading.
    void apply() {
        if (threads != null) {
            ComputePool.setThreads(Flags.threads(threads));
        }
    }
}
