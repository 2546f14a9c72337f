package dev.interlayer.bench;

import dev.interlayer.models.cli.Flags;
import dev.interlayer.tensor.ComputePool;
import picocli.CommandLine.Option;

// picocli mixin: --threads of the bench commands, one compute thread unless asked (unlike the other commands, whose
// default is every core), so that a run on a shared machine is repeatable.
final class BenchThreads {
    @Option(names = "--threads", defaultValue = "1", description = "ComputePool threads (default ${DEFAULT-VALUE}).")
    int threads;

    // checks --threads and sizes ComputePool to it; call before loading or allocating anything
    void apply() {
        ComputePool.setThreads(Flags.threads(threads));
    }
}
