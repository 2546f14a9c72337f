package dev.interlayer.tensor;

/** Reductions along an axis. ARGMAX writes the index (first maximum) as a float-valued F32 or I32. */
public enum Reduction {
    SUM, MEAN, MAX, ARGMAX, L2_NORM
}
