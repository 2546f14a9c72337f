package dev.interlayer.bench;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Old build against new build in <em>one</em> JVM, alternating in short turns: each build's jar is loaded by its
 * own class loader (parent: the platform loader, so neither sees this jar's copy of Interlayer), both open the
 * same model, and turns of about {@code --turn} seconds alternate old, new, old, … . The result is the
 * distribution of new ÷ old over adjacent pairs of turns.
 *
 * <p>Why: on this 2-vCPU VM the speed of the same build moves by ±10–100 % between JVMs and over periods of
 * seconds to minutes (BENCHMARKS.md §62: something outside the VM shares the core's L1/L2). Two JVMs run one
 * after the other measure different periods; two turns a fraction of a second apart measure nearly the same one,
 * so the median of the pair ratios is readable where the ratio of two separate runs is not. Both builds share one
 * heap, the JIT compiler threads and the code cache; each has its own classes, statics and thread pool (idle pool
 * threads park).
 *
 * <p>Workloads (public API present in every build since the one-engine work began):
 * <ul>
 *   <li>{@code embed}: {@code EmbeddingModel.defaultModel().embedTokenIds(ids)} on {@code --batch} short sentences
 *       (tokenization outside the timing), score = sentences/s;</li>
 *   <li>{@code decode}: {@code ModelLoader.open(model).requireLm()}, a session, a 16-token prompt, then single-token
 *       {@code append} calls (token ids fixed, no sampling; the session is reset when full), score = tokens/s;</li>
 *   <li>{@code prefill}: the same session reset and fed {@value #PREFILL} tokens in one {@code append}, score =
 *       prompt tokens/s.</li>
 * </ul>
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp
 * bench/target/interlayer.jar dev.interlayer.bench.SideBySide OLD.jar NEW.jar embed|decode|prefill [--model F]
 * [--threads N] [--batch B] [--pairs P] [--turn S] [--warmup S]}.
 */
public final class SideBySide {
    /** Prompt tokens per prefill unit (one {@code append} of this many tokens into an empty session). */
    static final int PREFILL = 128;

    private SideBySide() {
    }

    /** One build's workload: {@link #run} does one unit of work (a batch, or one decoded token). */
    interface Side {
        /** One unit of work; returns the units counted in the score (sentences or tokens). */
        int run() throws Exception;

        /** Untimed set-up before a turn (decode: a fresh session and prompt when the session is nearly full). */
        default void beforeTurn() throws Exception {
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SideBySide OLD.jar NEW.jar embed|decode|prefill [--model F] [--threads N] [--batch B]"
                    + " [--pairs P] [--turn S] [--warmup S]");
            System.exit(2);
        }
        SideBySideOptions o;
        try {
            o = SideBySideOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("SideBySide: " + e.getMessage());
            System.exit(2);
            return;
        }
        Side old = open(o.oldJar(), o), neu = open(o.newJar(), o);
        long warmEnd = System.nanoTime() + (long) (o.warmup() * 1e9);
        while (System.nanoTime() < warmEnd) {
            turn(old, o.turn() / 2);
            turn(neu, o.turn() / 2);
        }
        double[] ratios = new double[o.pairs()], olds = new double[o.pairs()], news = new double[o.pairs()];
        for (int i = 0; i < o.pairs(); i++) {
            // alternate which build goes first, so a drift within a pair does not favour one side
            if (i % 2 == 0) {
                olds[i] = turn(old, o.turn());
                news[i] = turn(neu, o.turn());
            } else {
                news[i] = turn(neu, o.turn());
                olds[i] = turn(old, o.turn());
            }
            ratios[i] = news[i] / olds[i];
        }
        System.out.println(String.format(Locale.ROOT,
                "sidebyside workload=%s threads=%d batch=%d pairs=%d turn_s=%.2f old=%s new=%s", o.workload(),
                o.threads(), o.batch(), o.pairs(), o.turn(), o.oldJar(), o.newJar()));
        System.out.println("old " + PairStats.describe(olds) + " " + o.unit() + "/s");
        System.out.println("new " + PairStats.describe(news) + " " + o.unit() + "/s");
        System.out.println("new/old " + PairStats.describe(ratios));
    }

    /** Units per second of {@code side} over at least {@code seconds} (whole units). */
    static double turn(Side side, double seconds) throws Exception {
        side.beforeTurn();
        long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9), now;
        long units = 0;
        do {
            units += side.run();
            now = System.nanoTime();
        } while (now < end);
        return units / ((now - t0) * 1e-9);
    }

    /** The workload of the build in {@code jar}, in a class loader of its own. */
    static Side open(Path jar, SideBySideOptions o) throws Exception {
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no jar at " + jar + " (build it: ./interlayer --version in that checkout)");
        }
        ClassLoader loader = new URLClassLoader(jar.getFileName().toString(), new URL[] {jar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
        Reflect r = new Reflect(loader);
        r.invokeStatic("dev.interlayer.tensor.ComputePool", "setThreads", new Class<?>[] {int.class}, o.threads());
        return switch (o.workload()) {
            case "embed" -> embed(r, o.batch());
            case "decode" -> decode(r, Path.of(o.model()), false);
            case "prefill" -> decode(r, Path.of(o.model()), true);
            default -> throw new IllegalArgumentException("workload " + o.workload() + ": embed, decode or prefill");
        };
    }

    private static Side embed(Reflect r, int batch) throws Exception {
        Object model = r.invokeStatic("dev.interlayer.models.embed.EmbeddingModel", "defaultModel", new Class<?>[0]);
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            ids.add((int[]) Reflect.invoke(model, "tokenIds", new Class<?>[] {String.class},
                    EmbedBench.SHORT[i % EmbedBench.SHORT.length]));
        }
        var embed = model.getClass().getMethod("embedTokenIds", List.class);
        return () -> {
            embed.invoke(model, ids);
            return batch;
        };
    }

    private static Side decode(Reflect r, Path model, boolean prefill) throws Exception {
        Object loaded = r.invokeStatic("dev.interlayer.models.load.ModelLoader", "open", new Class<?>[] {Path.class},
                model);
        Object lm = Reflect.invoke(loaded, "requireLm", new Class<?>[0]);
        int capacity = 256, prompt = 16;
        Object session = Reflect.invoke(lm, "newSession", new Class<?>[] {int.class}, capacity);
        Class<?> sessionType = r.load("dev.interlayer.models.generate.CausalLM$Session");
        var append = sessionType.getMethod("append", int[].class, int.class, int.class);
        var reset = sessionType.getMethod("reset");
        var position = sessionType.getMethod("position");
        int vocab = (int) Reflect.invoke(lm, "vocabSize", new Class<?>[0]);
        int[] tokens = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            tokens[i] = 1 + 37 * i % (vocab - 1); // fixed ids, the same for both builds
        }
        if (prefill) {
            return () -> {
                reset.invoke(session);
                append.invoke(session, tokens, 0, PREFILL);
                return PREFILL;
            };
        }
        return new Side() {
            @Override
            public int run() throws Exception {
                int p = (int) position.invoke(session);
                if (p == capacity) { // a turn longer than the session: refill inside the timing (rare)
                    beforeTurn();
                    p = prompt;
                }
                append.invoke(session, tokens, p, 1);
                return 1;
            }

            @Override
            public void beforeTurn() throws Exception {
                int p = (int) position.invoke(session);
                if (p == 0 || p > capacity - 64) {
                    reset.invoke(session);
                    append.invoke(session, tokens, 0, prompt);
                }
            }
        };
    }
}
