package dev.interlayer.tensor;

import dev.interlayer.tensor.kernel.ScalarKernels;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** Picks the kernel implementation once; see {@link Kernels}. */
final class KernelSelection {
    static final String PROPERTY = "dev.interlayer.simd.bits";
    static final Kernels SCALAR = new ScalarKernels();
    static final OnceWarning WARNING = new OnceWarning(
            m -> System.getLogger("dev.interlayer.tensor").log(System.Logger.Level.WARNING, m));
    static final Kernels ACTIVE = select(requestedBits(), vectorModulePresent(), WARNING);

    private KernelSelection() {
    }

    /** Requested vector width in bits from {@code dev.interlayer.simd.bits}; -1 = preferred. */
    static int requestedBits() {
        return parseBits(System.getProperty(PROPERTY));
    }

    /** -1 for null/blank, else 0, 128, 256 or 512. @throws IllegalArgumentException naming the property */
    static int parseBits(String p) {
        if (p == null || p.isBlank()) {
            return -1;
        }
        int bits;
        try {
            bits = Integer.parseInt(p.trim());
        } catch (NumberFormatException e) {
            bits = -2;
        }
        if (bits != 0 && bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException(PROPERTY + " must be 0, 128, 256 or 512, got " + p);
        }
        return bits;
    }

    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** The kernels for a requested width (-1 preferred, 0 scalar) given whether the vector module is present. */
    static Kernels select(int bits, boolean vectorPresent, OnceWarning warning) {
        if (bits == 0) {
            return SCALAR;
        }
        if (!vectorPresent) {
            warning.warn("jdk.incubator.vector is not available (start the JVM with --add-modules jdk.incubator.vector);"
                    + " using scalar kernels, which are much slower");
            return SCALAR;
        }
        try {
            Class<?> c = Class.forName("dev.interlayer.tensor.simd.SimdKernels");
            return (Kernels) c.getConstructor(int.class).newInstance(bits);
        } catch (ClassNotFoundException e) {
            warning.warn("SIMD kernels are not on the class path; using scalar kernels");
            return SCALAR;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create SIMD kernels for " + PROPERTY + "=" + bits, e);
        }
    }

    /** Passes the first message to a sink and drops the rest. */
    static final class OnceWarning {
        private final AtomicBoolean done = new AtomicBoolean();
        private final Consumer<String> sink;

        OnceWarning(Consumer<String> sink) {
            this.sink = sink;
        }

        void warn(String message) {
            if (done.compareAndSet(false, true)) {
                sink.accept(message);
            }
        }
    }
}
