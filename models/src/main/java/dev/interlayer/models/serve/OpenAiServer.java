package dev.interlayer.models.serve;

import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible HTTP server for one {@link ServedModel}, on the JDK's {@code com.sun.net.httpserver}:
 * {@code POST /v1/chat/completions}, {@code POST /v1/completions} (both streamed as server-sent events when
 * {@code stream} is true), {@code POST /v1/embeddings}, {@code GET /v1/models}, {@code GET /health}. Bodies and
 * errors follow OpenAI's API reference; every error is a JSON {@code {"error":{...}}} with a 4xx/5xx status and
 * the server keeps serving. Generations go through a {@link Scheduler}; a full queue answers 503.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.interlayer.serve");
    // Bytes of an oversized body read and dropped before answering 413, so that the client sees the answer
    // rather than a reset connection; past this the connection is simply closed after the answer.
    private static final long DRAIN_LIMIT = 64L << 20;

    /**
     * Server settings.
     *
     * @param host     address to bind ("127.0.0.1" for this machine only)
     * @param port     TCP port, 0 for any free one
     * @param parallel generations decoded at once (≥ 1)
     * @param queue    requests that may wait for a slot (≥ 1); more are answered 503
     * @param timeout  longest a request may take, waiting included
     * @param maxBody  largest request body in bytes; larger ones are answered 413
     */
    public record Options(String host, int port, int parallel, int queue, Duration timeout, long maxBody) {
        /**
         * Checks the ranges.
         *
         * @throws IllegalArgumentException naming the setting that is out of range
         */
        public Options {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
            }
            if (parallel < 1 || queue < 1) {
                throw new IllegalArgumentException("parallel and queue must be >= 1, got " + parallel + ", " + queue);
            }
            if (timeout.isNegative() || timeout.isZero() || maxBody < 1) {
                throw new IllegalArgumentException("timeout and max body must be positive, got " + timeout + ", "
                        + maxBody);
            }
        }
    }

    private final ServedModel model;
    private final Options options;
    private final Scheduler scheduler;
    private final HttpServer http;
    private final ExecutorService executor;
    private final long created = Instant.now().getEpochSecond();
    private final Semaphore embedSlots;                 // encoder: embeddings computed at once
    private final AtomicInteger embedPending = new AtomicInteger();

    private OpenAiServer(ServedModel model, Options options, DecodeStep step) throws IOException {
        this.model = model;
        this.options = options;
        this.scheduler = new Scheduler(options.parallel(), options.queue(), step);
        this.embedSlots = new Semaphore(options.parallel(), true);
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 64);
        } catch (IOException e) {
            scheduler.close();
            throw e;
        }
        http.setExecutor(executor);
        http.createContext("/v1/chat/completions", guarded("POST", ex -> generate(ex, true)));
        http.createContext("/v1/completions", guarded("POST", ex -> generate(ex, false)));
        http.createContext("/v1/embeddings", guarded("POST", this::embeddings));
        http.createContext("/v1/models", guarded("GET", ex -> Http.sendJson(ex, 200,
                Responses.models(model, created))));
        http.createContext("/health", guarded("GET", ex -> Http.sendJson(ex, 200, status())));
        http.createContext("/", guarded(null, ex -> {
            throw new ApiError(404, "invalid_request_error", "no route " + ex.getRequestURI().getPath()
                    + "; try /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /health", null);
        }));
        http.start();
    }

    /**
     * Starts serving {@code model} with {@code step} as the scheduler's decode step.
     *
     * @throws IOException if the address cannot be bound
     */
    public static OpenAiServer start(ServedModel model, Options options, DecodeStep step) throws IOException {
        OpenAiServer s = new OpenAiServer(model, options, step);
        LOG.log(System.Logger.Level.INFO, "serving " + model.id() + " on http://" + options.host() + ":" + s.port()
                + " (parallel " + options.parallel() + (step instanceof BatchedDecodeStep ? ", batched decode" : "")
                + ", queue " + options.queue()
                + (model.lm().isPresent() ? ", context " + model.contextLength() + " per request" : "") + ")"
                + (model.lm().isEmpty() ? "; embeddings only"
                : model.chatFormat().equals("template") ? "; chat prompts from the model's template"
                : "; the model has no chat template: chat prompts use the plain 'User: / Assistant:' format"));
        return s;
    }

    /**
     * {@link #start(ServedModel, Options, DecodeStep)} with continuous batching: the active sequences of a decoder
     * advance together through one pass over the weights ({@link BatchedDecodeStep}); sequential for other models.
     */
    public static OpenAiServer start(ServedModel model, Options options) throws IOException {
        return start(model, options, model.lm().map(lm -> BatchedDecodeStep.forModel(lm, options.parallel()))
                .orElse(DecodeStep.sequential()));
    }

    /** The bound port (the chosen one when {@link Options#port()} was 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The scheduler (its counters show admitted, completed, cancelled and rejected requests). */
    public Scheduler scheduler() {
        return scheduler;
    }

    private JsonObject status() {
        JsonObject o = new JsonObject();
        o.addProperty("status", "ok");
        o.addProperty("model", model.id());
        return o;
    }

    // ---- endpoints ----

    private void generate(HttpExchange ex, boolean chat) throws IOException {
        JsonObject body = Requests.object(Http.readBody(ex, options.maxBody(), DRAIN_LIMIT));
        Requests.Generation g = chat ? Requests.chat(body, model) : Requests.completion(body, model);
        long deadline = System.nanoTime() + options.timeout().toNanos();
        Responses.Completion c = new Responses.Completion((chat ? "chatcmpl-" : "cmpl-")
                + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 1), chat,
                Instant.now().getEpochSecond(), model.id());
        new Exchange(ex, scheduler, g, c, deadline, options.timeout()).run();
    }

    private void embeddings(HttpExchange ex) throws IOException {
        Requests.Embeddings r = Requests.embeddings(Requests.object(Http.readBody(ex, options.maxBody(), DRAIN_LIMIT)),
                model);
        if (embedPending.incrementAndGet() > options.parallel() + options.queue()) {
            embedPending.decrementAndGet();
            throw Http.busy(options.queue());
        }
        List<float[]> vectors;
        int tokens;
        try {
            if (!embedSlots.tryAcquire(options.timeout().toNanos(), TimeUnit.NANOSECONDS)) {
                throw Http.timeout(options.timeout());
            }
            try {
                // tokenized once: the ids give both the vectors and the usage count
                List<int[]> ids = model.embeddingTokenIds(r.inputs());
                vectors = model.embedder().orElseThrow().embedTokenIds(ids);
                tokens = ids.stream().mapToInt(a -> a.length).sum();
            } finally {
                embedSlots.release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "server_error", "interrupted", null);
        } finally {
            embedPending.decrementAndGet();
        }
        Http.sendJson(ex, 200, Responses.embeddings(vectors, r.base64(), model.id(), tokens));
    }

    // ---- plumbing ----

    private interface Endpoint {
        void handle(HttpExchange ex) throws IOException;
    }

    // Method check, and every failure answered as a JSON error (the exchange is always closed).
    private HttpHandler guarded(String method, Endpoint e) {
        return ex -> {
            try {
                if (method != null && !method.equalsIgnoreCase(ex.getRequestMethod())) {
                    throw new ApiError(405, "invalid_request_error", ex.getRequestURI().getPath() + " takes "
                            + method + ", got " + ex.getRequestMethod(), null);
                }
                e.handle(ex);
            } catch (ApiError err) {
                Http.trySendJson(ex, err.status(), err.toJson());
            } catch (IOException err) {
                LOG.log(System.Logger.Level.DEBUG, "client connection: " + err);
            } catch (RuntimeException err) {
                LOG.log(System.Logger.Level.WARNING, "request failed", err);
                Http.trySendJson(ex, 500, new ApiError(500, "server_error", "internal error: " + err, null).toJson());
            } finally {
                ex.close();   // after the catch blocks: they still answer on this exchange
            }
        };
    }

    /** Stops accepting connections, ends running generations and stops the scheduler. The model stays open. */
    @Override
    public void close() {
        http.stop(0);
        scheduler.close();
        executor.shutdownNow();
    }

    // Request/response helpers over HttpExchange.
    static final class Http {
        private Http() {
        }

        // The body, at most maxBody bytes; a larger one is read up to drainLimit and dropped, then answered 413.
        static byte[] readBody(HttpExchange ex, long maxBody, long drainLimit) throws IOException {
            String len = ex.getRequestHeaders().getFirst("Content-Length");
            long declared = -1;
            try {
                declared = len == null ? -1 : Long.parseLong(len.trim());
            } catch (NumberFormatException e) {
                throw ApiError.invalid("bad Content-Length '" + len + "'", null);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Math.max(declared, 256), maxBody));
            byte[] buf = new byte[16384];
            long total = 0;
            try (InputStream in = ex.getRequestBody()) {
                for (int r; (r = in.read(buf)) > 0; ) {
                    total += r;
                    if (total <= maxBody) {
                        out.write(buf, 0, r);
                    } else if (declared > drainLimit || total > drainLimit) {
                        break;
                    }
                }
            }
            if (total > maxBody) {
                throw new ApiError(413, "invalid_request_error", "request body of " + (declared > 0 ? declared
                        : "over " + maxBody) + " bytes exceeds the limit of " + maxBody + " bytes (--max-body)", null);
            }
            return out.toByteArray();
        }

        static ApiError busy(int queue) {
            return new ApiError(503, "server_error", "server busy: all slots are running and " + queue
                    + " requests are already waiting; retry later", null);
        }

        static ApiError timeout(Duration t) {
            return new ApiError(504, "timeout_error", "request did not finish within " + t.toSeconds()
                    + " s (--timeout)", null);
        }

        static void sendJson(HttpExchange ex, int status, JsonObject body) throws IOException {
            byte[] b = body.toString().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, b.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(b);
            }
        }

        // Sends an error unless the response has already started (then the connection is just closed).
        static void trySendJson(HttpExchange ex, int status, JsonObject body) {
            if (ex.getResponseCode() != -1) {
                return;
            }
            try {
                sendJson(ex, status, body);
            } catch (IOException ignored) {
                // the client has gone; nothing to tell it
            }
        }
    }
}
