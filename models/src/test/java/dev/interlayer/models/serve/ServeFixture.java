package dev.interlayer.models.serve;

import dev.interlayer.models.generate.Generator;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A model opened once per test class, optionally served over loopback HTTP, and closed after the class (server
 * before model). Registered as {@code @RegisterExtension static final ServeFixture served = ...}; the tests read
 * its fields {@link #model}, {@link #view}, {@link #server} and {@link #client} (set before the class's first
 * test) instead of each declaring them and the {@code @BeforeAll}/{@code @AfterAll} pair.
 */
final class ServeFixture implements BeforeAllCallback, AfterAllCallback {
    /** Opens the model (may skip the test class through {@link dev.interlayer.models.SharedModels}). */
    interface Opener {
        ServedModel open() throws Exception;
    }

    private final Opener opener;
    private final UnaryOperator<ServedModel> viewOf;
    private final OpenAiServer.Options options;   // null: no server
    private final DecodeStep step;                 // null: OpenAiServer's default step for the model
    /** The opened model. */
    ServedModel model;
    /** The model the server serves: the opened one unless a view was given. */
    ServedModel view;
    /** The running server (null without one). */
    OpenAiServer server;
    /** A client of the running server (null without one). */
    ServeClient client;

    private ServeFixture(Opener opener, UnaryOperator<ServedModel> view, OpenAiServer.Options options,
            DecodeStep step) {
        this.opener = opener;
        this.viewOf = view;
        this.options = options;
        this.step = step;
    }

    /** The model only, no server. */
    static ServeFixture model(Opener opener) {
        return new ServeFixture(opener, UnaryOperator.identity(), null, null);
    }

    /** The model served on 127.0.0.1 (free port) with OpenAiServer's default decode step for it. */
    static ServeFixture served(Opener opener, int parallel, int queue, Duration timeout) {
        return new ServeFixture(opener, UnaryOperator.identity(), options(parallel, queue, timeout), null);
    }

    /** {@code view} of the opened model served with {@code step}; {@link #model} stays the opened one. */
    static ServeFixture served(Opener opener, UnaryOperator<ServedModel> view, int parallel, int queue,
            Duration timeout, DecodeStep step) {
        return new ServeFixture(opener, view, options(parallel, queue, timeout), step);
    }

    /** Loopback options on a free port with a 1 MiB body limit. */
    static OpenAiServer.Options options(int parallel, int queue, Duration timeout) {
        return new OpenAiServer.Options("127.0.0.1", 0, parallel, queue, timeout, 1 << 20);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        model = opener.open();
        view = viewOf.apply(model);
        if (options != null) {
            server = step == null ? OpenAiServer.start(view, options) : OpenAiServer.start(view, options, step);
            client = new ServeClient(server.port());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        ServeClient.closeAll(server, model);
    }

    /** A generator builder on the opened model's decoder and tokenizer (the library path the server must match). */
    Generator.Builder generator() {
        return Generator.builder(model.lm().orElseThrow(), model.tokenizer());
    }
}
