package dev.interlayer.tensor;

import dev.interlayer.tensor.kernel.ScalarKernels;
import java.util.logging.Logger;

/** Picks the kernel implementation once; see {@link Kernels}. */
final class KernelSelection {
    static final Kernels SCALAR = new ScalarKernels();
    static final Kernels ACTIVE = select();

    private KernelSelection() {
    }

    /** Requested vector width in bits from {@code dev.interlayer.simd.bits}; -1 = preferred. */
    static int requestedBits() {
        String p = System.getProperty("dev.interlayer.simd.bits");
        if (p == null || p.isBlank()) {
            return -1;
        }
        int bits = Integer.parseInt(p.trim());
        if (bits != 0 && bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("dev.interlayer.simd.bits must be 0, 128, 256 or 512, got " + p);
        }
        return bits;
    }

    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    private static Kernels select() {
        int bits = requestedBits();
        if (bits == 0) {
            return SCALAR;
        }
        if (!vectorModulePresent()) {
            Logger.getLogger("dev.interlayer.tensor").warning(
                    "jdk.incubator.vector is not available (start the JVM with --add-modules jdk.incubator.vector);"
                            + " using scalar kernels, which are much slower");
            return SCALAR;
        }
        try {
            Class<?> c = Class.forName("dev.interlayer.tensor.simd.SimdKernels");
            return (Kernels) c.getConstructor(int.class).newInstance(bits);
        } catch (ClassNotFoundException e) {
            return SCALAR; // SIMD kernels not built into this jar
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create SIMD kernels", e);
        }
    }
}
