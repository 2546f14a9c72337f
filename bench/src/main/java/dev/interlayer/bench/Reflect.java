package dev.interlayer.bench;

import java.lang.reflect.InvocationTargetException;

/** Calls into a build loaded by its own class loader ({@link SideBySide}), unwrapping the callee's exceptions. */
final class Reflect {
    private final ClassLoader loader;

    Reflect(ClassLoader loader) {
        this.loader = loader;
    }

    /** The class {@code name} as this build defines it. */
    Class<?> load(String name) throws ClassNotFoundException {
        return Class.forName(name, true, loader);
    }

    /** The public static method {@code cls.method(types)} of this build, called with {@code args}. */
    Object invokeStatic(String cls, String method, Class<?>[] types, Object... args) throws Exception {
        return call(load(cls).getMethod(method, types), null, args);
    }

    /** The public method {@code method(types)} of {@code target}'s class, called on it. */
    static Object invoke(Object target, String method, Class<?>[] types, Object... args) throws Exception {
        return call(target.getClass().getMethod(method, types), target, args);
    }

    private static Object call(java.lang.reflect.Method m, Object target, Object[] args) throws Exception {
        try {
            m.setAccessible(true);
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }
}
