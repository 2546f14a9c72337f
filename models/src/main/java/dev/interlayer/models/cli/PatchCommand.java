package dev.interlayer.models.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.readout.ActivationPatching;
import java.io.PrintWriter;
import java.util.OptionalInt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code interlayer patch}: activation patching (causal tracing, Meng et al. "Locating and Editing Factual
 * Associations in GPT"): the corrupted prompt is re-run with one clean activation restored, per tap × position
 * (residual stream) and per layer × head (head output before W_o), and the logit difference
 * logit(target) − logit(foil) at the last position is reported for each run.
 */
@Command(name = "patch", mixinStandardHelpOptions = true,
        description = "Activation patching between a clean and a corrupted prompt of equal token length: logit"
                + " difference per layer x position and per layer x head. Decoder models only.")
public final class PatchCommand extends ModelCommand {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public PatchCommand() {
    }

    @Mixin
    ModelPath.Decoder model = new ModelPath.Decoder();

    @Option(names = "--clean", required = true, description = "Clean prompt text.")
    String clean;

    @Option(names = "--corrupted", required = true, description = "Corrupted prompt (same number of tokens).")
    String corrupted;

    @Option(names = "--target", description = "Target token (id, vocabulary entry, or text of one token); default:"
            + " the clean run's top prediction.")
    String target;

    @Option(names = "--foil", description = "Foil token, as --target; default: the corrupted run's top prediction"
            + " (or the clean run's second when they agree).")
    String foil;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Option(names = "--skip-heads", description = "Only patch the residual stream (one run per layer and position).")
    boolean skipHeads;

    @Override
    void check() {
        Flags.require(!clean.isEmpty(), "--clean", "non-empty", "\"\"");
        Flags.require(!corrupted.isEmpty(), "--corrupted", "non-empty", "\"\"");
    }

    @Override
    int run(LoadedModel loaded, PrintWriter out) throws Exception {
        DecoderLM lm = ModelInput.decoder(loaded, "patch");
        Tokenizer tok = ModelInput.tokenizer(loaded, model());
        int[] a = tok.encode(clean), b = tok.encode(corrupted);
        if (a.length != b.length) {
            throw new IllegalArgumentException("--clean encodes to " + a.length + " tokens and --corrupted to "
                    + b.length + "; patching needs prompts of equal token length");
        }
        float[] cleanLogits = lm.newSession(a.length).append(a, 0, a.length).clone();
        float[] corruptLogits = lm.newSession(b.length).append(b, 0, b.length);
        int t = target == null ? argmax(cleanLogits, -1) : token(tok, target, "--target");
        int f;
        if (foil != null) {
            f = token(tok, foil, "--foil");
        } else {
            f = argmax(corruptLogits, -1);
            f = f == t ? argmax(cleanLogits, t) : f;
        }
        Flags.require(t != f, "--foil", "a token other than the target", foil == null ? f : foil);
        ActivationPatching.Metric metric = ActivationPatching.Metric.logitDifference(t, f);
        PlannedStack ps = new PlannedStack(lm.stack(), ExecutionPlan.identity(lm.stack().layers()));
        ActivationPatching.Result residual = ActivationPatching.residual(ps, lm.outputHead(), a, b, metric);
        ActivationPatching.Result heads = null;
        String headsSkipped = skipHeads ? "--skip-heads" : null;
        if (!skipHeads) {
            try {
                heads = ActivationPatching.heads(lm.stack(), lm.outputHead(), a, b, metric);
            } catch (IllegalArgumentException e) {
                headsSkipped = e.getMessage();   // e.g. post-norm blocks: per-head patching is not linear there
            }
        }
        if (json) {
            out.println(json(a, b, t, f, residual, heads, headsSkipped));
        } else {
            out.print(text(tok, a, t, f, residual, heads, headsSkipped));
        }
        return 0;
    }

    // argmax of logits, skipping index `skip` (-1 = none)
    private static int argmax(float[] logits, int skip) {
        int best = -1;
        for (int i = 0; i < logits.length; i++) {
            if (i != skip && (best < 0 || logits[i] > logits[best])) {
                best = i;
            }
        }
        return best;
    }

    // A token given as an id, an exact vocabulary entry, or a text that encodes to exactly one token.
    static int token(Tokenizer tok, String s, String flag) {
        if (s.matches("\\d+")) {
            int id = Integer.parseInt(s);
            Flags.require(id < tok.vocabSize(), flag, "a token id below the vocabulary size " + tok.vocabSize(), s);
            return id;
        }
        OptionalInt exact = tok.tokenId(s);
        if (exact.isPresent()) {
            return exact.getAsInt();
        }
        int[] ids = tok.encode(s, false, false);
        Flags.require(ids.length == 1, flag, "one token (an id, a vocabulary entry or a one-token text)",
                "\"" + s + "\" (" + ids.length + " tokens)");
        return ids[0];
    }

    private static String text(Tokenizer tok, int[] ids, int t, int f, ActivationPatching.Result r,
                               ActivationPatching.Result heads, String headsSkipped) {
        StringBuilder sb = new StringBuilder(String.format("metric: logit('%s') - logit('%s') at the last position;"
                + " clean %.4f, corrupted %.4f%n", LensCommand.show(tok, t), LensCommand.show(tok, f), r.clean(),
                r.corrupt()));
        sb.append("residual patching: tap (0 = embedding) x position (clean token)\n").append(String.format("%-6s",
                ""));
        for (int id : ids) {
            sb.append(String.format(" %10s", "'" + LensCommand.show(tok, id) + "'"));
        }
        sb.append('\n');
        appendRows(sb, r.values());
        if (heads != null) {
            sb.append("head patching: layer x head\n");
            appendRows(sb, heads.values());
        } else {
            sb.append("head patching skipped: ").append(headsSkipped).append('\n');
        }
        return sb.toString();
    }

    private static void appendRows(StringBuilder sb, double[][] rows) {
        for (int l = 0; l < rows.length; l++) {
            sb.append(String.format("%-6d", l));
            for (double v : rows[l]) {
                sb.append(String.format(" %10.4f", v));
            }
            sb.append('\n');
        }
    }

    private static String json(int[] a, int[] b, int t, int f, ActivationPatching.Result r,
                               ActivationPatching.Result heads, String headsSkipped) {
        JsonObject o = new JsonObject();
        o.add("clean_tokens", array(a));
        o.add("corrupted_tokens", array(b));
        o.addProperty("target", t);
        o.addProperty("foil", f);
        o.addProperty("clean", r.clean());
        o.addProperty("corrupted", r.corrupt());
        o.add("residual", rows(r.values()));
        if (heads != null) {
            o.add("heads", rows(heads.values()));
        } else {
            o.addProperty("heads_skipped", headsSkipped);
        }
        return o.toString();
    }

    private static JsonArray array(int[] v) {
        JsonArray a = new JsonArray();
        for (int x : v) {
            a.add(x);
        }
        return a;
    }

    private static JsonArray rows(double[][] v) {
        JsonArray a = new JsonArray();
        for (double[] row : v) {
            JsonArray r = new JsonArray();
            for (double x : row) {
                r.add(x);
            }
            a.add(r);
        }
        return a;
    }
}
