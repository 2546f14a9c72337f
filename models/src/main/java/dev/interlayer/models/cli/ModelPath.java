package dev.interlayer.models.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

// picocli mixins: the required --model option, one class per help text (an option's description is fixed in its
// annotation), for the commands that describe it alike. A ModelCommand reads it through model().
final class ModelPath {
    private ModelPath() {
    }

    // --model of the commands that read either checkpoint form (generate, inspect)
    static final class GgufOrHf {
        @Option(names = "--model", required = true, description = "GGUF file or Hugging Face folder.")
        Path model;
    }

    // --model of the commands that need a decoder (lens, patch)
    static final class Decoder {
        @Option(names = "--model", required = true, description = "GGUF file or Hugging Face folder (decoder).")
        Path model;
    }
}
