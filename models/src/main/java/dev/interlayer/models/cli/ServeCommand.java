package dev.interlayer.models.cli;

import dev.interlayer.models.serve.OpenAiServer;
import dev.interlayer.models.serve.ServedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code interlayer serve}: an OpenAI-compatible HTTP server for one model, until the process is stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API: /v1/chat/completions, /v1/completions"
                + " (SSE streaming or whole), /v1/embeddings, /v1/models, /health.")
public final class ServeCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public ServeCommand() {
    }

    @Option(names = "--model", required = true, description = "GGUF file, Hugging Face folder or ONNX file"
            + " (decoders: completions; encoders: embeddings).")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE};"
            + " 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port, 0 = any free one"
            + " (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--parallel", defaultValue = "1", description = "Sequences decoded at once, each with its own"
            + " KV cache (default ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--queue", description = "Requests that may wait for a slot; more get 503 (default 8 x"
            + " --parallel).")
    Integer queue;

    @Option(names = "--timeout", defaultValue = "600", description = "Seconds a request may take, waiting"
            + " included (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--max-body", defaultValue = "1048576", description = "Largest request body in bytes; larger"
            + " ones get 413 (default ${DEFAULT-VALUE}).")
    long maxBody;

    @Option(names = "--ctx", defaultValue = "4096", description = "Positions one request may use, prompt plus"
            + " generated tokens; bounds each slot's KV cache (default ${DEFAULT-VALUE}, or the model's context if"
            + " smaller; 0 = the model's whole context).")
    int ctx;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Mixin
    KvTypeOption kvType = new KvTypeOption();

    @Override
    public Integer call() throws Exception {
        Flags.exists(model, "--model");
        Flags.require(port >= 0 && port <= 65535, "--port", "in [0, 65535]", port);
        Flags.require(parallel >= 1 && parallel <= 1024, "--parallel", "in [1, 1024]", parallel);
        int q = queue == null ? 8 * parallel : queue;
        Flags.require(q >= 1, "--queue", ">= 1", q);
        Flags.require(timeoutSeconds >= 1, "--timeout", ">= 1 second", timeoutSeconds);
        Flags.require(maxBody >= 1, "--max-body", ">= 1 byte", maxBody);
        Flags.require(ctx >= 0, "--ctx", ">= 0 (0 = the model's context)", ctx);
        threads.apply();
        kvType.type();   // checked before the load
        OpenAiServer.Options options = new OpenAiServer.Options(host, port, parallel, q,
                Duration.ofSeconds(timeoutSeconds), maxBody);
        ServedModel served;
        try (Progress p = Progress.start("loading " + model.getFileName())) {
            served = ServedModel.open(model, kvType::apply, ctx);
        }
        try (served; OpenAiServer server = OpenAiServer.start(served, options)) {   // logs where it listens
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return 0;
    }
}
