package dev.interlayer.models.serve;

import java.util.List;

/**
 * One decode step of the scheduler: advances every active slot by one token. This is the seam for batched
 * decode: an implementation that runs all slots' tokens through one pass over the weights replaces
 * {@link #sequential()} without touching the scheduler.
 *
 * <p>Contract, for each slot: feed {@code slot.run().nextInput()} to {@code slot.run().session()} at its next
 * position and hand that position's logits to {@code slot.run().accept(logits)}; a slot whose step fails is
 * {@linkplain Slot#fail failed} and the others go on. Sessions are never shared: each slot has its own KV cache.
 * Called on the scheduler thread only; {@code active} is non-empty and every slot in it is prefilled and not
 * done.
 */
@FunctionalInterface
public interface DecodeStep {

    /** Advances each slot in {@code active} by one token. */
    void step(List<Slot> active);

    /** One {@code session.append} per slot, one slot after another: each token reads the weights once. */
    static DecodeStep sequential() {
        return active -> {
            for (Slot s : active) {
                try {
                    s.run().step();
                } catch (RuntimeException e) {
                    s.fail(e);
                }
            }
        };
    }
}
