package dev.interlayer.models.io;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * A {@link WeightSource} that forwards to another and records every name asked for through
 * {@link #tensor}, {@link #contains} or {@link #dtype}, so that after a model is built the names it never
 * asked for can be reported: a tensor in the file that the architecture does not use usually means a
 * config/checkpoint mismatch (a bias the family ignores, a head it does not build) rather than harmless
 * padding. Listing {@link #names()} does not count as asking.
 *
 * <p>Closing this source closes the delegate. Recording is thread-safe.
 */
public final class UsageTrackingWeightSource implements WeightSource {
    /** Logger that unused-tensor warnings go to (JUL by default). */
    public static final System.Logger LOG = System.getLogger("dev.interlayer.models");
    /** At most this many names are spelled out in a warning; the count covers the rest. */
    static final int LISTED = 10;

    private final WeightSource delegate;
    private final Set<String> requested = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean reported = new AtomicBoolean();

    /** Tracks requests made to {@code delegate}. */
    public UsageTrackingWeightSource(WeightSource delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The wrapped source. */
    public WeightSource delegate() {
        return delegate;
    }

    @Override
    public Set<String> names() {
        return delegate.names();
    }

    @Override
    public boolean contains(String name) {
        requested.add(name);
        return delegate.contains(name);
    }

    @Override
    public Tensor tensor(String name) {
        requested.add(name);
        return delegate.tensor(name);
    }

    @Override
    public DType dtype(String name) {
        requested.add(name);
        return delegate.dtype(name);
    }

    /** Names present in the source that were never requested, sorted. */
    public List<String> unused() {
        return delegate.names().stream().filter(n -> !requested.contains(n)).sorted().toList();
    }

    /**
     * Logs one WARNING listing the names in {@link #unused()} that {@code ignored} does not accept, e.g.
     * {@code "model.safetensors: 2 tensors not used by llama: [lm_head.bias, model.extra.weight]"}; at most
     * {@value #LISTED} names are spelled out. Logs nothing when every name was used or ignored, and at most
     * once per instance (a second call returns the same names without logging).
     *
     * @param file    the file name shown in the message
     * @param family  the architecture family shown in the message
     * @param ignored names the family deliberately does not read (buffers, heads it does not build)
     * @return the unused, not-ignored names
     */
    public List<String> warnUnused(String file, String family, Predicate<String> ignored) {
        List<String> unused = unused().stream().filter(ignored.negate()).toList();
        if (!unused.isEmpty() && reported.compareAndSet(false, true)) {
            String listed = unused.size() <= LISTED ? unused.toString()
                    : unused.subList(0, LISTED).toString().replaceFirst("]$", ", ...]");
            LOG.log(System.Logger.Level.WARNING, file + ": " + unused.size() + " tensor" + (unused.size() == 1 ? "" : "s")
                    + " not used by " + family + ": " + listed);
        }
        return unused;
    }

    @Override
    public void close() {
        delegate.close();
    }
}
