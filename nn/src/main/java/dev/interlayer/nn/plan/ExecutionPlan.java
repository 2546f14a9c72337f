package dev.interlayer.nn.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * An execution plan: the list of layer applications a stack runs instead of its fixed loop
 * x_{t+1} = Block_{π(t)}(x_t). Covers skipping, repeating, reordering and parallel-averaging layers
 * ("Transformer Layers as Painters", Sun et al.), early exit (a prefix of the plan, "LayerSkip", Elhoushi
 * et al.), LayerDrop pruning ("Reducing Transformer Depth on Demand with Structured Dropout", Fan et al.)
 * and attention/MLP dropping ("What Matters in Transformers? Not All Attention is Needed", He et al.).
 *
 * <p>KV cache slots: every step that runs attention gets its own slot, numbered compactly in step order
 * (two steps reusing a physical layer see different inputs, so they need separate caches).
 *
 * <p>Text form (round-trips through {@link #parse} and {@link #toString}): comma-separated items; an item is
 * {@code ℓ} (full block), {@code ℓa} (attention only: FFN dropped), {@code ℓf} (FFN only: attention dropped),
 * or a parallel group {@code (i|j|…)} of such items. Example: {@code 0,1,(2|3),(2|3),4f,5}.
 *
 * @param steps the steps in execution order (immutable copy)
 */
public record ExecutionPlan(List<Step> steps) {
    /**
     * Checks the plan is non-empty and every parallel group is one consecutive run of steps.
     *
     * @throws IllegalArgumentException if the plan is empty or a group id appears in two separate runs
     */
    public ExecutionPlan {
        if (steps == null || steps.isEmpty()) {
            throw new IllegalArgumentException("ExecutionPlan: needs at least one step");
        }
        steps = List.copyOf(steps);
        List<Integer> closed = new ArrayList<>();
        for (int t = 0; t < steps.size(); t++) {
            int g = steps.get(t).group();
            if (g >= 0 && closed.contains(g)) {
                throw new IllegalArgumentException("ExecutionPlan: parallel group " + g + " is split (step " + t + ")");
            }
            if (t > 0) {
                int prev = steps.get(t - 1).group();
                if (prev >= 0 && prev != g) {
                    closed.add(prev);
                }
            }
        }
    }

    /** Number of steps. */
    public int size() {
        return steps.size();
    }

    /** Step t. */
    public Step step(int t) {
        return steps.get(t);
    }

    /**
     * Checks that every step names a layer of a stack with {@code layers} layers.
     *
     * @throws IllegalArgumentException naming the first step whose layer is outside [0, layers)
     */
    public ExecutionPlan requireLayers(int layers) {
        for (int t = 0; t < steps.size(); t++) {
            if (steps.get(t).layer() >= layers) {
                throw new IllegalArgumentException("ExecutionPlan step " + t + " runs layer " + steps.get(t).layer()
                        + " but the stack has " + layers + " layers [0, " + layers + ")");
            }
        }
        return this;
    }

    /** Number of KV cache slots: the steps that run attention. */
    public int kvSlots() {
        int n = 0;
        for (Step s : steps) {
            n += s.runsAttention() ? 1 : 0;
        }
        return n;
    }

    /** The first {@code k} steps (early exit after k steps). @throws IllegalArgumentException unless 1 ≤ k ≤ size */
    public ExecutionPlan prefix(int k) {
        if (k < 1 || k > steps.size()) {
            throw new IllegalArgumentException("ExecutionPlan.prefix: k = " + k + " outside [1, " + steps.size() + "]");
        }
        return new ExecutionPlan(steps.subList(0, k));
    }

    // ---------------------------------------------------------------- factories

    /** The plan of the given physical layers, each a full sequential block. */
    public static ExecutionPlan of(int... layers) {
        List<Step> out = new ArrayList<>();
        for (int l : layers) {
            out.add(Step.of(l));
        }
        return new ExecutionPlan(out);
    }

    /** [0, 1, …, L−1]: the model itself. */
    public static ExecutionPlan identity(int layers) {
        return of(range(0, layers));
    }

    /** Early exit after k layers: [0 … k−1]. */
    public static ExecutionPlan earlyExit(int layers, int k) {
        return identity(layers).prefix(k);
    }

    /** Painters "skip": [0..s] + [N−s..N−1] (the middle s+1 … N−s−1 removed). */
    public static ExecutionPlan skip(int n, int s) {
        checkPainters(n, s);
        return of(concat(range(0, s + 1), range(n - s, n)));
    }

    /** Painters "middle_repeat": [0..s] + [floor(N/2)] × (N−2s−1) + [N−s..N−1]. */
    public static ExecutionPlan middleRepeat(int n, int s) {
        checkPainters(n, s);
        int[] mid = new int[Math.max(0, n - 2 * s - 1)];
        Arrays.fill(mid, n / 2);
        return of(concat(range(0, s + 1), mid, range(n - s, n)));
    }

    /** Painters "reverse": [0..s] + [N−s−1, …, s+1] + [N−s..N−1]. */
    public static ExecutionPlan reverse(int n, int s) {
        checkPainters(n, s);
        int[] mid = range(s + 1, n - s);
        for (int i = 0, j = mid.length - 1; i < j; i++, j--) {
            int tmp = mid[i];
            mid[i] = mid[j];
            mid[j] = tmp;
        }
        return of(concat(range(0, s + 1), mid, range(n - s, n)));
    }

    /** Painters "random": the middle layers shuffled with a seeded {@link Random}. */
    public static ExecutionPlan random(int n, int s, long seed) {
        checkPainters(n, s);
        List<Integer> mid = new ArrayList<>();
        for (int l : range(s + 1, n - s)) {
            mid.add(l);
        }
        java.util.Collections.shuffle(mid, new Random(seed));
        return of(concat(range(0, s + 1), mid.stream().mapToInt(Integer::intValue).toArray(), range(n - s, n)));
    }

    /** Painters "parallel": the middle layers all read the output of layer s and are averaged (r = 1). */
    public static ExecutionPlan parallel(int n, int s) {
        return loopedParallel(n, s, 1);
    }

    /**
     * Painters "looped_parallel": r times h ← mean_j Block_j(h) over the middle layers j, then the last layers.
     * Each iteration is its own group (separate KV slots per iteration and layer: the exact semantics).
     */
    public static ExecutionPlan loopedParallel(int n, int s, int r) {
        checkPainters(n, s);
        if (r < 1) {
            throw new IllegalArgumentException("looped_parallel: r must be >= 1, got " + r);
        }
        List<Step> out = new ArrayList<>();
        for (int l : range(0, s + 1)) {
            out.add(Step.of(l));
        }
        int[] mid = range(s + 1, n - s);
        for (int it = 0; it < r && mid.length > 0; it++) {
            for (int l : mid) {
                out.add(new Step(l, it, false, false));
            }
        }
        for (int l : range(n - s, n)) {
            out.add(Step.of(l));
        }
        return new ExecutionPlan(out);
    }

    /** Every layer except ℓ. */
    public static ExecutionPlan skipOne(int n, int layer) {
        checkLayer(n, layer);
        return of(concat(range(0, layer), range(layer + 1, n)));
    }

    /** Layers ℓ and ℓ+1 exchanged. */
    public static ExecutionPlan swap(int n, int layer) {
        checkLayer(n, layer + 1);
        int[] l = range(0, n);
        l[layer] = layer + 1;
        l[layer + 1] = layer;
        return of(l);
    }

    /** LayerDrop pruning with an explicit keep list (ascending layer order as given). */
    public static ExecutionPlan layersToKeep(int n, int... keep) {
        for (int l : keep) {
            checkLayer(n, l);
        }
        return of(keep);
    }

    /**
     * LayerDrop "every other" pruning at rate p: keep layer ℓ iff (ℓ + 1) mod floor(1/p) ≠ 0
     * (p = 0.25 on 16 layers drops 3, 7, 11, 15).
     *
     * @throws IllegalArgumentException unless 0 &lt; p ≤ 0.5 (floor(1/p) ≥ 2 keeps at least one layer)
     */
    public static ExecutionPlan layerDropEveryOther(int n, double p) {
        if (!(p > 0 && p <= 0.5)) {
            throw new IllegalArgumentException("LayerDrop every-other rate must be in (0, 0.5], got " + p);
        }
        int k = (int) Math.floor(1 / p);
        return of(java.util.stream.IntStream.range(0, n).filter(l -> (l + 1) % k != 0).toArray());
    }

    /** All layers in order with the attention sublayers of {@code dropAttn} and the MLPs of {@code dropMlp} removed. */
    public static ExecutionPlan dropSublayers(int n, int[] dropAttn, int[] dropMlp) {
        boolean[] a = flags(n, dropAttn, "attention"), m = flags(n, dropMlp, "mlp");
        List<Step> out = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            if (!(a[l] && m[l])) {
                out.add(new Step(l, -1, a[l], m[l]));
            }
        }
        return new ExecutionPlan(out);
    }

    private static boolean[] flags(int n, int[] layers, String what) {
        boolean[] f = new boolean[n];
        for (int l : layers) {
            checkLayer(n, l);
            f[l] = true;
        }
        return f;
    }

    private static void checkPainters(int n, int s) {
        if (n < 1 || s < 0 || s >= n) {
            throw new IllegalArgumentException("Painters plan: need N >= 1 and 0 <= s < N, got N = " + n + ", s = " + s);
        }
    }

    private static void checkLayer(int n, int l) {
        if (l < 0 || l >= n) {
            throw new IllegalArgumentException("layer " + l + " outside [0, " + n + ")");
        }
    }

    static int[] range(int from, int to) {
        return java.util.stream.IntStream.range(from, Math.max(from, to)).toArray();
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    // ---------------------------------------------------------------- text form

    /**
     * Parses the text form (see the class comment).
     *
     * @throws IllegalArgumentException naming the offending item and its character offset
     */
    public static ExecutionPlan parse(String text) {
        List<Step> out = new ArrayList<>();
        int group = 0, i = 0;
        String s = text.replace(" ", "");
        while (i < s.length()) {
            if (s.charAt(i) == '(') {
                int close = s.indexOf(')', i);
                if (close < 0) {
                    throw new IllegalArgumentException("plan '" + text + "': unclosed '(' at offset " + i);
                }
                for (String item : s.substring(i + 1, close).split("\\|", -1)) {
                    out.add(item(item, group, text, i));
                }
                group++;
                i = close + 1;
            } else {
                int comma = s.indexOf(',', i);
                int end = comma < 0 ? s.length() : comma;
                out.add(item(s.substring(i, end), -1, text, i));
                i = end;
            }
            if (i < s.length()) {
                if (s.charAt(i) != ',') {
                    throw new IllegalArgumentException("plan '" + text + "': expected ',' at offset " + i);
                }
                i++;
            }
        }
        return new ExecutionPlan(out);
    }

    private static Step item(String item, int group, String text, int offset) {
        boolean attnOnly = item.endsWith("a"), ffnOnly = item.endsWith("f");
        String num = attnOnly || ffnOnly ? item.substring(0, item.length() - 1) : item;
        try {
            return new Step(Integer.parseInt(num), group, ffnOnly, attnOnly);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("plan '" + text + "': item '" + item + "' near offset " + offset
                    + " is not a layer index (forms: 3, 3a, 3f, (3|4))");
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (int t = 0; t < steps.size(); t++) {
            Step st = steps.get(t);
            boolean opens = st.parallel() && (t == 0 || steps.get(t - 1).group() != st.group());
            boolean closes = st.parallel() && (t == steps.size() - 1 || steps.get(t + 1).group() != st.group());
            if (t > 0) {
                b.append(st.parallel() && !opens ? '|' : ',');
            }
            b.append(opens ? "(" : "").append(st.layer()).append(st.skipFfn() ? "a" : st.skipAttn() ? "f" : "");
            b.append(closes ? ")" : "");
        }
        return b.toString();
    }
}
