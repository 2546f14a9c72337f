package dev.interlayer.models.cli;

import java.io.PrintStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Progress of long work on stderr, only when stderr is a terminal: nothing for the first second (short
 * work stays silent), then one line rewritten in place four times a second ("loading x.gguf: 2.1 s",
 * "warm-up: 40% 4.0 s"), ended by a newline on {@link #close()}. Pipes, files and tests see nothing.
 * A daemon thread draws the line, so work that cannot report (a model load) still shows time passing.
 */
public final class Progress implements AutoCloseable {
    private static final long DELAY_NANOS = 1_000_000_000L, PERIOD_MILLIS = 250;

    private final String what;
    private final double total;
    private final long start = System.nanoTime();
    private final PrintStream err;
    private final Thread drawer;
    private volatile double done;
    private volatile boolean closed;
    private boolean drawn;            // guarded by this

    private Progress(String what, double total, PrintStream err) {
        this.what = what;
        this.total = total;
        this.err = err;
        this.drawer = err == null ? null : Thread.ofPlatform().daemon().name("interlayer-progress").start(this::loop);
    }

    /**
     * Starts showing {@code what} (e.g. {@code "loading stories260K.gguf"}).
     *
     * @param total the amount {@link #update} counts towards (e.g. seconds of warm-up), or 0 if unknown
     */
    public static Progress start(String what, double total) {
        return new Progress(what, total, isTerminal() ? System.err : null);
    }

    /** Progress without a known total: elapsed time only. */
    public static Progress start(String what) {
        return start(what, 0);
    }

    /**
     * True when stderr is an interactive terminal: {@code isatty(2)} through FFM when native access is enabled
     * (the launcher enables it). {@link java.io.Console#isTerminal()} is only the fallback: it looks at stdin and
     * stdout, so it would draw into {@code 2> log} and stay silent for {@code > out.txt} in a terminal.
     */
    static boolean isTerminal() {
        Boolean tty = stderrIsTty();
        if (tty != null) {
            return tty;
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    // isatty(2), or null when it cannot be asked (native access off, no such C symbol, a failing call).
    private static Boolean stderrIsTty() {
        if (!Progress.class.getModule().isNativeAccessEnabled()) {
            return null;                  // a restricted call here would print a JVM warning
        }
        try {
            Linker linker = Linker.nativeLinker();
            var isatty = linker.defaultLookup().find("isatty");
            if (isatty.isEmpty()) {
                return null;
            }
            MethodHandle h = linker.downcallHandle(isatty.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) h.invokeExact(2) != 0;   // POSIX: non-zero for a terminal
        } catch (Throwable e) {
            return null;
        }
    }

    /** Sets how much of the total is done (same unit as the total). */
    public void update(double done) {
        this.done = done;
    }

    private void loop() {
        try {
            Thread.sleep(DELAY_NANOS / 1_000_000);
            while (!closed) {
                draw(false);
                Thread.sleep(PERIOD_MILLIS);
            }
        } catch (InterruptedException e) {
            // closed while waiting
        }
    }

    private synchronized void draw(boolean last) {
        if (closed && !last) {
            return;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String pct = total > 0 ? String.format(Locale.ROOT, " %3.0f%%", Math.min(100, 100 * done / total)) : "";
        err.print(String.format(Locale.ROOT, "\rinterlayer: %s:%s %.1f s   ", what, pct, seconds));
        err.flush();
        drawn = true;
    }

    /** Stops drawing; a line already on screen is completed with its final time and a newline. */
    @Override
    public void close() {
        if (drawer == null) {
            return;
        }
        closed = true;
        drawer.interrupt();
        synchronized (this) {
            if (drawn) {
                done = total;
                draw(true);
                err.println();
            }
        }
    }
}
