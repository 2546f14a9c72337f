package dev.interlayer.models.serve;

import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import dev.interlayer.models.generate.GenerationResult;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One completion request on the HTTP side: submits the generation to the scheduler and relays its events,
 * as server-sent events ({@code data: {chunk}\n\n} ... {@code data: [DONE]\n\n}) or as one JSON body at the end.
 * The scheduler thread only enqueues events; this (virtual) thread does the writing, so a slow client never
 * stalls the decode of the others. A failed write (client gone) or the deadline cancels the slot at once.
 */
final class Exchange implements Slot.Sink {
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final HttpExchange ex;
    private final Scheduler scheduler;
    private final Requests.Generation request;
    private final Responses.Completion completion;
    private final long deadline;                                // System.nanoTime() limit
    private final Duration timeout;
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();   // String, GenerationResult, Throwable

    Exchange(HttpExchange ex, Scheduler scheduler, Requests.Generation request, Responses.Completion completion,
             long deadline, Duration timeout) {
        this.ex = ex;
        this.scheduler = scheduler;
        this.request = request;
        this.completion = completion;
        this.deadline = deadline;
        this.timeout = timeout;
    }

    // ---- Slot.Sink, on the scheduler thread ----

    @Override
    public void text(String piece) {
        if (request.stream()) {   // a whole answer takes its text from the result: no queue node per token
            events.add(piece);
        }
    }

    @Override
    public void done(GenerationResult result) {
        events.add(result);
    }

    @Override
    public void failed(Throwable error) {
        events.add(error);
    }

    // ---- the HTTP side ----

    void run() throws IOException {
        Slot slot = scheduler.submit(request.generator(), request.prompt(), this);
        if (slot == null) {
            throw OpenAiServer.Http.busy(scheduler.queueCapacity());
        }
        try {
            if (request.stream()) {
                stream(slot);
            } else {
                whole(slot);
            }
        } catch (InterruptedException e) {
            scheduler.cancel(slot);
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            scheduler.cancel(slot);   // the client went away (or we failed): free the slot now
            throw e;
        }
    }

    // Next event, or null at the deadline.
    private Object next() throws InterruptedException {
        long left = deadline - System.nanoTime();
        return left <= 0 ? null : events.poll(left, TimeUnit.NANOSECONDS);
    }

    private void whole(Slot slot) throws IOException, InterruptedException {
        while (true) {
            Object e = next();
            if (e == null) {
                scheduler.cancel(slot);
                throw OpenAiServer.Http.timeout(timeout);
            }
            if (e instanceof GenerationResult r) {
                OpenAiServer.Http.sendJson(ex, 200, completion.full(r));
                return;
            }
            if (e instanceof Throwable t) {
                throw failure(t);
            }
            // a String: the result carries the whole text
        }
    }

    private void stream(Slot slot) throws IOException, InterruptedException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream os = ex.getResponseBody();
        boolean first = completion.chat();
        if (first) {   // OpenAI opens a chat stream with the role
            send(os, completion.chunk("", true, null));
            first = false;
        }
        while (true) {
            Object e = next();
            if (e == null) {
                scheduler.cancel(slot);
                send(os, OpenAiServer.Http.timeout(timeout).toJson());
                break;
            }
            if (e instanceof String s) {
                send(os, completion.chunk(s, first, null));
            } else if (e instanceof GenerationResult r) {
                send(os, completion.chunk(null, false, Responses.finishReason(r)));
                if (request.includeUsage()) {
                    send(os, completion.usageChunk(r));
                }
                break;
            } else {
                send(os, failure((Throwable) e).toJson());
                break;
            }
        }
        os.write(DONE);
        os.close();
    }

    private static void send(OutputStream os, JsonObject chunk) throws IOException {
        os.write(("data: " + chunk + "\n\n").getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    private static ApiError failure(Throwable t) {
        if (t instanceof ApiError a) {
            return a;
        }
        if (t instanceof IllegalArgumentException) {
            return ApiError.invalid(String.valueOf(t.getMessage()), null);
        }
        return new ApiError(500, "server_error", "generation failed: " + t, null);
    }
}
