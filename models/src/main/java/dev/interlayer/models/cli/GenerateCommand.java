package dev.interlayer.models.cli;

import dev.interlayer.models.generate.GenerationResult;
import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code interlayer generate}: streams a continuation of a prompt to stdout, speed to stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text with a decoder model: GGUF file or Hugging Face folder (streams to stdout;"
                + " tokens/s on stderr).")
public final class GenerateCommand extends SequenceCommand {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public GenerateCommand() {
    }

    @Mixin
    ModelPath.GgufOrHf model = new ModelPath.GgufOrHf();

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy (default ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "0 = off (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "1 = off (default ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "0 = off (default ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "1 = off (default ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", description = "Tokens the penalty looks back over.")
    int repeatLastN;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Most tokens to generate.")
    int maxTokens;

    @Option(names = "--stop", description = "Stop string (repeatable).")
    String[] stop;

    @Mixin
    PlanOptions planOptions = new PlanOptions();

    @Mixin
    KvTypeOption kvType = new KvTypeOption();

    @Option(names = "--router-stats", description = "After generating, print each MoE layer's expert load, router"
            + " entropy and auxiliary losses on stderr.")
    boolean routerStats;

    // the loaded decoder with its sessions caching in --kv-type's type
    private DecoderLM decoder(LoadedModel loaded, String command) {
        return (DecoderLM) kvType.apply(ModelInput.decoder(loaded, command));
    }

    @Override
    void check() {
        // every option is checked here, before the (possibly slow) model load, and named as typed
        Flags.require(temperature >= 0 && Float.isFinite(temperature), "--temperature", "finite and >= 0", temperature);
        Flags.require(topK >= 0, "--top-k", ">= 0", topK);
        Flags.require(topP > 0 && topP <= 1, "--top-p", "in (0, 1]", topP);
        Flags.require(minP >= 0 && minP < 1, "--min-p", "in [0, 1)", minP);
        Flags.require(repeatPenalty > 0 && Float.isFinite(repeatPenalty), "--repeat-penalty", "finite and > 0",
                repeatPenalty);
        Flags.require(repeatLastN >= 0, "--repeat-last-n", ">= 0", repeatLastN);
        Flags.require(maxTokens >= 1, "--max-tokens", ">= 1", maxTokens);
        if (stop != null) {
            for (String s : stop) {
                Flags.require(!s.isEmpty(), "--stop", "non-empty", "\"\"");
            }
        }
        planOptions.validate();
        kvType.type();   // checked before the load
        if (planOptions.active()) {
            Flags.require(!routerStats, "--router-stats", "used without --plan/--draft-layers", "both");
        }
        if (planOptions.draftLayers != null) {
            Flags.require(repeatPenalty == 1f, "--repeat-penalty", "1 with --draft-layers", repeatPenalty);
            Flags.require(stop == null, "--stop", "absent with --draft-layers", String.join(",", stop == null
                    ? new String[0] : stop));
        }
    }

    @Override
    int run(LoadedModel loaded, PrintWriter out) throws Exception {
        Sampler sampler = temperature == 0 ? Sampler.greedy()
                : new Sampler.Stochastic(temperature, topK, topP, minP, seed);
        PrintWriter err = spec.commandLine().getErr();
        CausalLM m = kvType.apply(loaded.requireLm());
        Tokenizer tok = loaded.tokenizer();
        if (planOptions.draftLayers != null) {
            if (temperature > 0) {
                err.println("note: --draft-layers samples with --temperature only (top-k, top-p, min-p off)");
            }
            int[] ids = input.ids(loaded, model());
            planOptions.speculate(decoder(loaded, "--draft-layers"), tok, ids,
                    input.prompt, maxTokens, temperature, seed, out, err);
            return 0;
        }
        RouterStatsLM stats = routerStats ? new RouterStatsLM(decoder(loaded, "--router-stats")) : null;
        if (planOptions.active()) {
            m = planOptions.planned(decoder(loaded, "--plan"));
        } else if (stats != null) {
            m = stats;
        }
        Generator.Builder b = Generator.builder(m, tok).sampler(sampler).maxTokens(maxTokens)
                .repetitionPenalty(repeatPenalty, repeatLastN);
        if (stop != null) {
            b.stopStrings(stop);
        }
        Generator gen = b.build();
        GenerationResult r;
        try {
            if (input.tokens != null) {
                r = gen.generate(input.tokens, t -> print(out, tok == null ? t.id() + " " : t.text()));
            } else {
                ModelInput.tokenizer(loaded, model());   // fails with "use --tokens" when there is none
                print(out, input.prompt);
                r = gen.generate(input.prompt, t -> print(out, t.text()));
            }
        } catch (OutputClosed e) {
            return 0;                              // `generate ... | head`: the reader has gone, so stop
        }
        out.println();
        out.flush();
        err.printf("prompt: %d tokens, %.1f tok/s; generated: %d tokens, %.1f tok/s (%s)%n", r.promptTokens(),
                r.prefillTokensPerSecond(), r.generatedTokens(), r.decodeTokensPerSecond(), r.stopReason());
        if (stats != null) {
            stats.print(err);
        }
        err.flush();
        return 0;
    }

    // Prints and flushes one piece; stops generation once stdout is closed (a PrintStream swallows EPIPE and only
    // sets its error flag, which picocli's writer does not see, so System.out is asked too).
    private static void print(PrintWriter out, String s) {
        out.print(s);
        if (out.checkError() || System.out.checkError()) {
            throw new OutputClosed();
        }
    }

    // Thrown from the token callback to end a generation whose output nobody reads.
    private static final class OutputClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OutputClosed() {
            super("stdout closed", null, false, false);
        }
    }
}
