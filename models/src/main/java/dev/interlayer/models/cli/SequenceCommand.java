package dev.interlayer.models.cli;

import picocli.CommandLine.Mixin;

// A ModelCommand that runs the model on one input sequence, --tokens or --prompt (hidden, logits, lens, generate).
abstract class SequenceCommand extends ModelCommand {
    @Mixin
    InputOptions input = new InputOptions();

    @Override
    final InputOptions input() {
        return input;
    }
}
