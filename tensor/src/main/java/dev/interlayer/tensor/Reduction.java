package dev.interlayer.tensor;

/** Reductions along an axis. ARGMAX writes the index (first maximum) as a float-valued F32 or I32. */
public enum Reduction {
    /** Σ x[i]. */
    SUM,
    /** Σ x[i] / n. */
    MEAN,
    /** max x[i]. */
    MAX,
    /** The index of the first maximum. */
    ARGMAX,
    /** √(Σ x[i]²). */
    L2_NORM
}
