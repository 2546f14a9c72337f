package dev.interlayer.models.cli;

import dev.interlayer.models.load.LoadedModel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

// picocli mixin: the input of the commands that run a model on one sequence (hidden, logits, lens, generate):
// exactly one of --tokens (ids as given) or --prompt (text through the model's tokenizer).
final class InputOptions {
    @Option(names = "--tokens", split = ",",
            description = "Input token ids, used as given (no BOS added), e.g. 1,403,407.")
    int[] tokens;

    @Option(names = "--prompt",
            description = "Input text, tokenized with the model's tokenizer (BOS added as it says).")
    String prompt;

    // Checks that exactly one of --tokens/--prompt was given (before the model is opened).
    void requireOne() {
        if ((prompt == null) == (tokens == null)) {
            throw new IllegalArgumentException("give exactly one of --tokens or --prompt");
        }
    }

    // --tokens as given, else --prompt encoded with the model's tokenizer; never empty.
    int[] ids(LoadedModel loaded, Path model) {
        int[] ids = tokens != null ? tokens : ModelInput.tokenizer(loaded, model).encode(prompt);
        if (ids.length == 0) {
            throw new IllegalArgumentException("no input tokens");
        }
        return ids;
    }
}
