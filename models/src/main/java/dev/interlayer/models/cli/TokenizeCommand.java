package dev.interlayer.models.cli;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code interlayer tokenize}: token ids of a text with a model's own tokenizer. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize text with a model's own tokenizer: GGUF file, Hugging Face folder or tokenizer.json.")
public final class TokenizeCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public TokenizeCommand() {
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true,
            description = "GGUF file (a model or a vocab-only file), Hugging Face folder, or tokenizer.json.")
    Path model;

    @Option(names = "--text", required = true, description = "Text to tokenize.")
    String text;

    @Option(names = "--no-bos", description = "Do not add BOS/EOS or other template tokens.")
    boolean noBos;

    @Option(names = "--no-parse-special", description = "Treat special-token text such as <s> as plain text.")
    boolean noParseSpecial;

    @Option(names = "--json", description = "Print {\"tokens\":[...]}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Tokenizer tok = load(Flags.exists(model, "--model"));
        int[] ids = tok.encode(text, !noBos, !noParseSpecial);
        StringBuilder sb = new StringBuilder();
        if (json) {
            sb.append("{\"tokens\":[");
            ModelInput.appendIds(sb, ids);
            sb.append("]}");
        } else {
            for (int id : ids) {
                sb.append(id).append('\t').append(tok.tokenText(id)).append('\n');
            }
        }
        out.println(sb.toString().stripTrailing());
        out.flush();
        return 0;
    }

    /**
     * The tokenizer a model file or folder carries: a folder's {@code tokenizer.json}, a {@code .json} file
     * itself, else the GGUF metadata.
     */
    public static Tokenizer load(Path model) throws IOException {
        if (Files.isDirectory(model)) {
            Path json = model.resolve("tokenizer.json");
            if (!Files.isRegularFile(json)) {
                throw new IllegalArgumentException("--model " + model + ": folder has no tokenizer.json");
            }
            return Tokenizers.fromHuggingFace(json);
        }
        if (model.getFileName().toString().endsWith(".json")) {
            return Tokenizers.fromHuggingFace(model);
        }
        try (GgufFile file = Gguf.open(model)) {
            return Tokenizers.fromGguf(file);
        }
    }
}
