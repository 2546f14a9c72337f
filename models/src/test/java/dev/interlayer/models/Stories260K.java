package dev.interlayer.models;

import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.llama.LlamaModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * stories260K.gguf (../shared/models; a real trained Llama) opened once per test class and closed after it, with
 * llama.cpp's greedy continuation of {@link #PROMPT} on the same file (given in the task brief). Registered as
 * {@code @RegisterExtension static final Stories260K stories = new Stories260K();}; the tests read its fields.
 */
public final class Stories260K implements BeforeAllCallback, AfterAllCallback {
    /** BOS + "Once upon a time". */
    public static final int[] PROMPT = {1, 403, 407, 261, 378};
    /** llama.cpp's greedy continuation of {@link #PROMPT}, 64 tokens. */
    public static final int[] LLAMA_CPP_GREEDY = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
            396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370,
            432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333,
            415, 426, 13, 438, 310, 439, 419, 357, 336};

    /** The open file (set before the class's first test). */
    public GgufFile file;
    /** The model on {@link #file}. */
    public LlamaModel model;
    /** The file's own tokenizer. */
    public Tokenizer tokenizer;

    /** Creates the fixture; JUnit opens the file before the class's tests. */
    public Stories260K() {
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        file = Gguf.open(SharedModels.require("stories260K/stories260K.gguf"));
        model = LlamaModel.load(file);
        tokenizer = Tokenizers.fromGguf(file.metadata());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (file != null) {
            file.close();
        }
    }

    /** A generator builder on the model and its tokenizer. */
    public Generator.Builder generator() {
        return Generator.builder(model, tokenizer);
    }
}
