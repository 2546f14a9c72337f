package dev.interlayer.nn.moe;

import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * MoEUT layer grouping (Csordás et al. 2024, "MoEUT: Mixture-of-Experts Universal Transformers"): G distinct
 * layers are applied in sequence and the group is repeated L/G times, so execution step s = r·G + g runs
 * physical layer g = s mod G, with its own key/value store (slot s). G = L gives an ordinary stack.
 *
 * <p>Shapes: x [T, d] updated in place. The final norm and the LM head (which has a bias in MoEUT) are outside.
 *
 * @param group the G physical layers
 * @param steps L, a multiple of G
 */
public record MoeutStack(List<MoeutBlock> group, int steps) {
    /** @throws IllegalArgumentException if the group is empty or L is not a positive multiple of G */
    public MoeutStack {
        group = List.copyOf(group);
        if (group.isEmpty() || steps < 1 || steps % group.size() != 0) {
            throw new IllegalArgumentException("MoeutStack: steps L = " + steps + " must be a positive multiple of "
                    + "the group size G = " + group.size());
        }
    }

    /** Physical layer executed at step s for group size G: s mod G. */
    public static int physicalLayer(int step, int groupSize) {
        if (step < 0 || groupSize < 1) {
            throw new IllegalArgumentException("step must be >= 0 and groupSize >= 1, got " + step + ", " + groupSize);
        }
        return step % groupSize;
    }

    /** One session: a block state (key/value store) per execution step and the routing context they share. */
    public State newState(int maxTokens) {
        return new State(this, maxTokens);
    }

    /** x ← stack(x) for the next T tokens of the session. */
    public void forward(Tensor x, State st) {
        int t = x.dim(0);
        st.context.begin(null, t, st.past);
        for (int s = 0; s < steps; s++) {
            group.get(physicalLayer(s, group.size())).forward(x, st.blocks[s]);
        }
        st.past += t;
    }

    /** Session state of a MoEUT stack. */
    public static final class State {
        private final RoutingContext context;
        private final MoeutBlock.State[] blocks; // [L], one per execution step
        private int past;

        private State(MoeutStack m, int maxTokens) {
            context = new RoutingContext(maxTokens);
            blocks = new MoeutBlock.State[m.steps];
            for (int s = 0; s < m.steps; s++) {
                blocks[s] = m.group.get(physicalLayer(s, m.group.size())).newState(maxTokens, context);
            }
        }

        /** State of execution step s (its σ-MoE router statistics, attention selection statistics). */
        public MoeutBlock.State step(int s) {
            return blocks[s];
        }

        /** Tokens processed so far. */
        public int past() {
            return past;
        }
    }
}
