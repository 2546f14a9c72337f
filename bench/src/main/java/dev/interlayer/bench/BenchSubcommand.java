package dev.interlayer.bench;

import dev.interlayer.models.cli.CliCommand;

// A subcommand of `./interlayer bench` found through the service list (generate, batch, speculative; gemm, matvec
// and bandwidth are BenchCommand's own subcommands).
interface BenchSubcommand extends CliCommand {
    @Override
    default String parent() {
        return "bench";
    }
}
