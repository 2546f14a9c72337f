package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;

/**
 * Observes the input rows X [n, dIn] of a block's linear layers during a forward pass, for calibration
 * (GPTQ's Hessian H = 2XᵀX/N, AWQ's mean |x|, llama.cpp's importance matrix). Installed on a
 * {@link StackSession} with {@link StackSession#linearTap(LinearTap)}; a session without a tap pays one null
 * check per block and allocates nothing.
 *
 * <p>Rows are reported for every token of the chunk, padding included (the caller knows its mask). For a
 * mixture of experts, expert e's call carries only the rows routed to it; the dense experts of a block report
 * with {@code expert = -1}, the shared expert with {@link #SHARED_EXPERT}. Feed-forward kinds other than
 * {@link Mlp}, {@link GatedMlp}, {@code MoeFeedForward} and {@code RoutedMoe} report nothing for their FFN sites.
 */
@FunctionalInterface
public interface LinearTap {
    /** The expert index reported for an MoE block's shared (always-on) expert. */
    int SHARED_EXPERT = -2;

    /**
     * Called synchronously with the rows the linears at {@code site} of block {@code layer} read.
     *
     * @param expert -1 for a dense sublayer, the expert index for routed rows, {@link #SHARED_EXPERT}
     * @param rows   [n, dIn], a view into the session's buffers: valid only during this call, must not be modified
     */
    void observe(int layer, LinearSite site, int expert, Tensor rows);

    /** This tap with every report's expert index replaced by {@code expert} (used by MoE layers). */
    default LinearTap forExpert(int expert) {
        return (layer, site, ignored, rows) -> observe(layer, site, expert, rows);
    }
}
