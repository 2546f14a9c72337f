package dev.interlayer.models.cli;

import dev.interlayer.models.family.Families;
import dev.interlayer.models.family.Family;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufTensorInfo;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code interlayer inspect}: what a GGUF file or Hugging Face folder holds. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's or HF folder's architecture, config, tensors (dtype, shape), parameter count"
                + " and tokenizer.")
public final class InspectCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public InspectCommand() {
    }

    @Spec
    CommandSpec spec;

    @Mixin
    ModelPath.GgufOrHf modelPath = new ModelPath.GgufOrHf();

    @Option(names = "--metadata", description = "Also list every metadata key/value.")
    boolean metadata;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path model = Flags.exists(modelPath.model, "--model");
        if (java.nio.file.Files.isDirectory(model)) {
            inspectHf(out, model);
            return 0;
        }
        try (GgufFile f = Gguf.open(model)) {
            out.printf("file: %s (%,d bytes, GGUF v%d, %d metadata keys, %d tensors, alignment %d, data at %d)%n",
                    model.getFileName(), f.fileSize(), f.version(), f.metadata().size(), f.tensorInfos().size(),
                    f.alignment(), f.dataOffset());
            String arch = f.architecture();
            out.printf("architecture: %s%s%n", arch, f.getString("general.name") == null ? ""
                    : " (name: " + f.getString("general.name") + ")");
            java.util.Optional<Family> family = Families.forGguf(arch);
            if (family.isPresent() && !f.tensorInfos().isEmpty()) {
                out.println("family: " + family.get().name());
                out.println("config: " + describe(family.get(), () -> family.get().config().gguf().parse(f)));
                out.println("tensor names: " + family.get().tensorNames().line(false));
            } else if (family.isPresent()) {
                out.println("config: (no tensors; listing only)");
            } else {
                out.println("config: (architecture not run by Interlayer; listing only; supported: "
                        + Families.ggufArchitectures() + ")");
            }
            Map<String, long[]> byType = new TreeMap<>();
            long params = 0, bytes = 0;
            if (!f.tensorInfos().isEmpty()) {
                out.println("tensors:");
            }
            for (GgufTensorInfo t : f.tensorInfos()) {
                out.printf("  %-40s %-6s %s%n", t.name(), t.type(), t.shape());
                params += t.elements();
                bytes += t.byteSize();
                long[] acc = byType.computeIfAbsent(t.type().toString(), k -> new long[2]);
                acc[0]++;
                acc[1] += t.elements();
            }
            StringBuilder types = new StringBuilder();
            byType.forEach((k, v) -> types.append(types.isEmpty() ? "" : ", ").append(v[0]).append(" ").append(k));
            out.printf("parameters: %,d in %d tensors (%s), %,d bytes of data%n", params, f.tensorInfos().size(),
                    types.isEmpty() ? "none" : types, bytes);
            if (f.get("tokenizer.ggml.model") != null) {
                try {
                    Tokenizer tok = Tokenizers.fromGguf(f);
                    out.printf("tokenizer: %s%s, %d tokens, bos %s, eos %s%n", f.getString("tokenizer.ggml.model"),
                            f.getString("tokenizer.ggml.pre") == null ? "" : " (pre " + f.getString("tokenizer.ggml.pre") + ")",
                            tok.vocabSize(), tok.bos().isPresent() ? tok.bos().getAsInt() : "-",
                            tok.eos().isPresent() ? tok.eos().getAsInt() : "-");
                } catch (RuntimeException e) {
                    out.println("tokenizer: " + f.getString("tokenizer.ggml.model") + " (cannot load: " + e.getMessage() + ")");
                }
            } else {
                out.println("tokenizer: none");
            }
            if (metadata) {
                out.println("metadata:");
                f.metadata().forEach((k, v) -> out.printf("  %s = %s%n", k, GgufFile.describe(v)));
            }
            out.flush();
        }
        return 0;
    }

    /** Reads a config; may fail with any exception, which {@link #describe} reports. */
    private interface ConfigRead {
        Object read() throws Exception;
    }

    // The family's one-line description of its config, or why the file cannot be run.
    private static String describe(Family family, ConfigRead read) {
        try {
            return family.config().describe().apply(read.read());
        } catch (Exception e) {
            return "not runnable: " + e.getMessage();
        }
    }

    // HF folder: family, config record, tensors of the safetensors file(s), tokenizer.
    private void inspectHf(PrintWriter out, Path model) throws java.io.IOException {
        try (HfFolder h = HfFolder.open(model)) {
            java.util.Optional<Family> family = Families.forHuggingFace(h.config());
            out.printf("folder: %s (model_type %s, architectures %s)%n", model.getFileName(), h.modelType(),
                    h.config().get("architectures"));
            out.println("family: " + family.map(Family::name).orElse("(not run by Interlayer; listing only;"
                    + " supported model_type " + Families.hfModelTypes() + ")"));
            if (family.isPresent()) {
                out.println("config: " + describe(family.get(), () -> family.get().config().hf().parse(h.config())));
                out.println("tensor names: " + family.get().tensorNames().line(true));
            }
            out.println("tensors:");
            long params = 0;
            for (String name : new java.util.TreeSet<>(h.weights().names())) {
                out.printf("  %-48s %-5s %s%n", name, h.weights().storedDtype(name),
                        h.weights().tensor(name).shape());
                params += h.weights().tensor(name).size();
            }
            out.printf("parameters: %,d in %d tensors%n", params, h.weights().names().size());
            out.println("tokenizer: " + (h.tokenizerJson().isPresent() ? "tokenizer.json" : "none"));
            out.flush();
        }
    }
}
