package dev.interlayer.nn.plan;

import dev.interlayer.nn.Attention;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Layer sharing: "Relaxed Recursive Transformers: Effective Parameter Sharing with Layer-wise LoRA" (Bae et al.),
 * MoEUT grouping (Csordás et al.; = the cycle map) and "One Wide Feedforward is All You Need" (Pires et al.).
 * <pre>
 *   cycle:            L' = B·R,     π(t) = t mod B
 *   sequence:         L' = B·R,     π(t) = floor(t / R)
 *   middle_cycle:     L' = B·R + 2, π(0) = 0, π(L'−1) = B + 1, π(t) = 1 + ((t−1) mod B) otherwise
 *   middle_sequence:  L' = B·R + 2, π(0) = 0, π(L'−1) = B + 1, π(t) = 1 + floor((t−1) / R) otherwise
 *   relaxation:       W_eff(t) = W_{π(t)} + (a / r)·B_t·A_t   per targeted linear map (A_t [r, in], B_t [out, r])
 * </pre>
 * Pure recursion is just a plan (each step keeps its own KV cache). Relaxation materializes one block per step:
 * untargeted maps and norms keep the unique block's tensors (shared, not copied); a targeted map gets a new F32
 * weight (the LoRA product can only be merged; a runtime low-rank path would need a hook in {@link Linear}).
 */
public final class Recursion {
    /** The sharing maps of Relaxed Recursive Transformers. */
    public enum Sharing { CYCLE, SEQUENCE, MIDDLE_CYCLE, MIDDLE_SEQUENCE }

    /** Linear maps a LoRA delta may target. */
    public static final Set<String> TARGETS = Set.of("q", "k", "v", "o", "gate", "up", "down");

    /**
     * A low-rank delta (a / r)·B·A.
     *
     * @param a     A [r, in]
     * @param b     B [out, r]
     * @param alpha a (lora_alpha)
     */
    public record Lora(Tensor a, Tensor b, float alpha) {
        /** @throws ShapeMismatchException unless a is [r, in] and b is [out, r] */
        public Lora {
            if (a.rank() != 2 || b.rank() != 2 || b.dim(1) != a.dim(0)) {
                throw ShapeMismatchException.of("Lora", "A must be [r, in] and B [out, r]", a.shape(), b.shape());
            }
        }

        /** Rank r. */
        public int rank() {
            return a.dim(0);
        }
    }

    private Recursion() {
    }

    /** The plan π(0..L'−1) of a sharing map over B unique blocks (B + 2 for the middle variants) and R recursions. */
    public static ExecutionPlan plan(Sharing sharing, int base, int recursions) {
        if (base < 1 || recursions < 1) {
            throw new IllegalArgumentException("recursion needs B >= 1 and R >= 1, got " + base + ", " + recursions);
        }
        int n = base * recursions;
        int[] pi = new int[sharing == Sharing.CYCLE || sharing == Sharing.SEQUENCE ? n : n + 2];
        for (int t = 0; t < pi.length; t++) {
            pi[t] = switch (sharing) {
                case CYCLE -> t % base;
                case SEQUENCE -> t / recursions;
                case MIDDLE_CYCLE -> t == 0 ? 0 : t == pi.length - 1 ? base + 1 : 1 + (t - 1) % base;
                case MIDDLE_SEQUENCE -> t == 0 ? 0 : t == pi.length - 1 ? base + 1 : 1 + (t - 1) / recursions;
            };
        }
        return ExecutionPlan.of(pi);
    }

    /**
     * One block per plan step with the step's LoRA deltas merged; embedding and final norm are the unique stack's.
     * The result runs with the identity plan (or directly as a DecoderStack).
     *
     * @param loras per step: target name ("q", "k", "v", "o", "gate", "up", "down") → delta; missing or empty = none
     * @throws IllegalArgumentException for an unknown target, a target the block's FFN lacks, or a size mismatch
     */
    public static DecoderStack relax(DecoderStack unique, ExecutionPlan plan, List<Map<String, Lora>> loras) {
        plan.requireLayers(unique.layers());
        if (loras.size() != plan.size()) {
            throw new IllegalArgumentException("relax: " + loras.size() + " LoRA maps for " + plan.size() + " steps");
        }
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int t = 0; t < plan.size(); t++) {
            TransformerBlock b = unique.blocks().get(plan.step(t).layer());
            Map<String, Lora> m = loras.get(t) == null ? Map.of() : loras.get(t);
            for (String k : m.keySet()) {
                if (!TARGETS.contains(k)) {
                    throw new IllegalArgumentException("step " + t + ": unknown LoRA target '" + k + "', supported "
                            + TARGETS);
                }
            }
            Attention a = b.attention();
            Attention at = new Attention(a.config(), merge(a.wq(), m.get("q")), merge(a.wk(), m.get("k")),
                    merge(a.wv(), m.get("v")), merge(a.wo(), m.get("o")), a.qNorm(), a.kNorm());
            blocks.add(new TransformerBlock(b.config(), b.attnIn(), at, b.attnOut(), b.ffnIn(), ffn(b.ffn(), m, t),
                    b.ffnOut()));
        }
        return new DecoderStack(unique.embedding(), unique.positions(), unique.embeddingNorm(), blocks,
                unique.finalNorm());
    }

    private static FeedForward ffn(FeedForward f, Map<String, Lora> m, int step) {
        if (f instanceof GatedMlp g) {
            return new GatedMlp(merge(g.gate(), m.get("gate")), merge(g.up(), m.get("up")), merge(g.down(),
                    m.get("down")), g.activation());
        }
        if (f instanceof Mlp p) {
            if (m.containsKey("gate")) {
                throw new IllegalArgumentException("step " + step + ": LoRA target 'gate' but the FFN has no gate");
            }
            return new Mlp(merge(p.up(), m.get("up")), merge(p.down(), m.get("down")), p.activation());
        }
        if (m.containsKey("gate") || m.containsKey("up") || m.containsKey("down")) {
            throw new IllegalArgumentException("step " + step + ": LoRA on the FFN needs a dense (gated) MLP, got "
                    + f.getClass().getSimpleName());
        }
        return f;
    }

    // W + (a/r)·B·A as a new F32 tensor, or the same Linear without a delta
    static Linear merge(Linear w, Lora lora) {
        if (lora == null) {
            return w;
        }
        if (lora.b().dim(0) != w.out() || lora.a().dim(1) != w.in()) {
            throw ShapeMismatchException.of("Recursion.relax", "LoRA B·A must be [out, in] of the weight",
                    lora.b().shape(), w.weight().shape());
        }
        Tensor delta = Ops.matmul(lora.b(), lora.a(), Tensor.zeros(w.out(), w.in()));
        Ops.scale(delta, lora.alpha() / lora.rank(), delta);
        return new Linear(Ops.add(w.weight().toF32(), delta, delta), w.bias());
    }

    /**
     * One wide FFN shared by groups of layers: layer ℓ uses the FFN of the first layer with its group id (norms stay
     * per layer). One group per layer is the base model.
     *
     * @param groupOf [L] group id per layer
     */
    public static DecoderStack sharedFfn(DecoderStack stack, int[] groupOf) {
        if (groupOf.length != stack.layers()) {
            throw new IllegalArgumentException("sharedFfn: " + groupOf.length + " group ids for " + stack.layers()
                    + " layers");
        }
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < groupOf.length; l++) {
            int leader = l;
            for (int j = 0; j < l; j++) {
                if (groupOf[j] == groupOf[l]) {
                    leader = j;
                    break;
                }
            }
            TransformerBlock b = stack.blocks().get(l);
            blocks.add(new TransformerBlock(b.config(), b.attnIn(), b.attention(), b.attnOut(), b.ffnIn(),
                    stack.blocks().get(leader).ffn(), b.ffnOut()));
        }
        return new DecoderStack(stack.embedding(), stack.positions(), stack.embeddingNorm(), blocks, stack.finalNorm());
    }
}
