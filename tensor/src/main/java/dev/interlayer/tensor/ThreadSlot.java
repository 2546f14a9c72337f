package dev.interlayer.tensor;

/**
 * One reusable object per thread, leased while in use: how the kernels keep scratch buffers and task
 * objects without allocating per call. {@link #lease()} hands out the thread's object and leaves the
 * slot empty until {@link #release}, so a nested call on the same thread (a chunk body that runs
 * another kernel, or work the thread picks up while it waits for its own parallel loop) finds it empty
 * and makes a fresh object instead of overwriting one still in use. The outermost release wins.
 *
 * <p>Internal to the kernels and the pool; public only because they live in two packages.
 */
public final class ThreadSlot<T> {
    private final ThreadLocal<Object[]> slot = ThreadLocal.withInitial(() -> new Object[1]);

    /** The thread's object, or null when it has none free (first use, or leased by an enclosing call). */
    @SuppressWarnings("unchecked")
    public T lease() {
        Object[] s = slot.get();
        T t = (T) s[0];
        s[0] = null;
        return t;
    }

    /** Gives {@code t} back to this thread's slot for the next {@link #lease()}. */
    public void release(T t) {
        slot.get()[0] = t;
    }
}
