package dev.interlayer.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * JMH auxiliary counters shared by the benchmark classes: a benchmark adds the work of one call, JMH
 * reports the field per second as a secondary result named after the field ({@code bytes}, {@code flop}).
 * Public because JMH's generated code lives in another package.
 */
public final class Counters {
    private Counters() {
    }

    /** Counts bytes; JMH reports it per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        /** Bytes moved so far in this iteration. */
        public long bytes;
    }

    /** Counts FLOPs; JMH reports it per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        /** Floating-point operations so far in this iteration. */
        public long flop;
    }
}
