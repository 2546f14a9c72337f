package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;

// The feed-forwards whose output is down(h), with h [T, f] computed from x [T, d] through up [f, d] (Mlp: h =
// act(up(x)); GatedMlp: h = act(gate(x)) ⊙ up(x)): the width d, the unpooled scratch and the linear taps (the
// FFN input x, and h as the down projection's input) are the same for both, so they are written once here.
interface DownProjectedFeedForward extends FeedForward {
    // [f, d]
    Linear up();

    // Rows [0, t) of the scratch buffer that holds h after forward: the down projection's input, [t, f].
    Tensor downInput(Scratch scratch, int t);

    @Override
    Scratch newScratch(int maxTokens, ScratchPool pool);

    @Override
    default int hidden() {
        return up().in();
    }

    @Override
    default Scratch newScratch(int maxTokens) {
        return newScratch(maxTokens, null);
    }

    @Override
    default void forward(Tensor x, Tensor out, Scratch scratch, int layer, LinearTap tap) {
        forward(x, out, scratch);
        if (tap != null) {   // the hidden buffer still holds the down projection's input
            tap.observe(layer, LinearSite.FFN_IN, -1, x);
            tap.observe(layer, LinearSite.FFN_DOWN, -1, downInput(scratch, x.dim(0)));
        }
    }
}
