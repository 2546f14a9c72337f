package dev.interlayer.bench;

import dev.interlayer.models.cli.Flags;
import picocli.CommandLine.Option;

// picocli mixin: the sequence lengths of the decode benchmarks (bench generate, bench batch), --prompt-tokens and
// --gen-tokens; each command gives its defaults when it creates the mixin (picocli shows them as the defaults).
final class DecodeWorkload {
    @Option(names = "--prompt-tokens", description = "Prompt length (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", description = "Decode steps (default ${DEFAULT-VALUE}).")
    int genTokens;

    DecodeWorkload(int promptTokens, int genTokens) {
        this.promptTokens = promptTokens;
        this.genTokens = genTokens;
    }

    // checks both lengths (before the model is loaded)
    void check() {
        Flags.require(promptTokens >= 1, "--prompt-tokens", ">= 1", promptTokens);
        Flags.require(genTokens >= 1, "--gen-tokens", ">= 1", genTokens);
    }
}
