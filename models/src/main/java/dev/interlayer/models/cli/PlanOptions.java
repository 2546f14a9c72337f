package dev.interlayer.models.cli;

import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.tokenizer.StreamingDecoder;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.SelfSpeculativeDecoder;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/**
 * The execution-plan options of {@code generate}: {@code --plan} runs the model through an
 * {@link ExecutionPlan} (skip, repeat, reorder, parallel-average, attention-only / FFN-only layers) and
 * {@code --draft-layers E} decodes self-speculatively (LayerSkip: the first E steps draft, the whole plan
 * verifies; greedy output equals plain greedy decoding).
 */
public final class PlanOptions {
    /** Filled by picocli. */
    public PlanOptions() {
    }

    @Option(names = "--plan", description = "Execution plan, e.g. 0,1,(2|3),4f,5a: layer ids in order; (i|j) averages"
            + " parallel layers; a suffix a/f keeps only attention/FFN.")
    String plan;

    @Option(names = "--draft-layers", description = "Self-speculative decoding (LayerSkip): draft with the first E"
            + " plan steps, verify with all; prints the acceptance rate.")
    Integer draftLayers;

    @Option(names = "--speculations", defaultValue = "4", description = "Draft tokens per round with --draft-layers"
            + " (default ${DEFAULT-VALUE}).")
    int speculations;

    private ExecutionPlan parsed;

    /** True if either option was given (the plan path replaces the plain model). */
    boolean active() {
        return plan != null || draftLayers != null;
    }

    /** Checks the options before the model is loaded; the plan's layer ids are checked against the model later. */
    void validate() {
        if (plan != null) {
            Flags.require(!plan.isBlank(), "--plan", "a non-empty plan", "\"\"");
            try {
                parsed = ExecutionPlan.parse(plan);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--plan: " + e.getMessage(), e);
            }
        }
        if (draftLayers != null) {
            Flags.require(draftLayers >= 1, "--draft-layers", ">= 1", draftLayers);
            if (parsed != null) {
                Flags.require(draftLayers <= parsed.size(), "--draft-layers", "<= the " + parsed.size()
                        + " steps of --plan", draftLayers);
            }
        }
        Flags.require(speculations >= 1, "--speculations", ">= 1", speculations);
    }

    /** The plan over the model's stack: --plan, or every layer in order. */
    PlannedStack stack(DecoderLM lm) {
        int layers = lm.stack().layers();
        if (parsed == null) {
            return new PlannedStack(lm.stack(), ExecutionPlan.identity(layers));
        }
        try {
            return new PlannedStack(lm.stack(), parsed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--plan: " + e.getMessage(), e);
        }
    }

    /** The model run through the plan, for the ordinary generator (its sessions cache in lm's KV type). */
    PlannedLM planned(DecoderLM lm) {
        return new PlannedLM(stack(lm), lm.outputHead(), lm.contextLength(), lm.kvType());
    }

    /**
     * Self-speculative generation: streams nothing (the decoder returns the whole continuation), prints it after
     * the prompt text, then acceptance rate, rounds and tokens/s on stderr.
     */
    void speculate(DecoderLM lm, Tokenizer tok, int[] ids, String prompt, int maxTokens, double temperature, long seed,
                   PrintWriter out, PrintWriter err) {
        PlannedStack ps = stack(lm);
        Flags.require(draftLayers <= ps.plan().size(), "--draft-layers", "<= the model's " + ps.plan().size()
                + " plan steps", draftLayers);
        if (ids.length + maxTokens > lm.contextLength()) {
            throw new IllegalArgumentException("prompt (" + ids.length + " tokens) + --max-tokens " + maxTokens
                    + " passes the model's context length " + lm.contextLength());
        }
        int eos = tok == null ? -1 : tok.eos().orElse(-1);
        var decoder = new SelfSpeculativeDecoder(ps, lm.outputHead(), draftLayers, speculations,
                ids.length + maxTokens, DecoderLM.DEFAULT_CHUNK, temperature, seed, lm.kvType());
        SelfSpeculativeDecoder.Result r = decoder.generate(ids, maxTokens, eos);
        if (tok == null) {
            StringBuilder sb = new StringBuilder();
            for (int t : r.tokens()) {
                sb.append(t).append(' ');
            }
            out.println(sb);
        } else {
            StreamingDecoder d = tok.streamingDecoder(ids);
            StringBuilder sb = new StringBuilder(prompt == null ? "" : prompt);
            for (int t : r.tokens()) {
                sb.append(d.next(t));
            }
            out.println(sb.append(d.flush()));
        }
        out.flush();
        err.printf("self-speculative E=%d n=%d: acceptance %.3f (%d of %d drafted), %d rounds; generated %d tokens,"
                + " %.1f tok/s%n", draftLayers, speculations, r.acceptanceRate(), r.accepted(), r.drafted(),
                r.rounds(), r.tokens().length, r.tokensPerSecond());
        err.flush();
    }
}
