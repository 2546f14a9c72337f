package dev.interlayer.models.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.Safetensors;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.LayerScores;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.readout.HiddenStates;
import dev.interlayer.nn.readout.LogitLens;
import dev.interlayer.nn.readout.TunedLens;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code interlayer lens}: the logit lens (or tuned lens) of a prompt: for every tap ℓ = 0..L (embedding output,
 * then each layer's output) and position t, the top token of softcap(Head(N_f(x_ℓ(t)))) and its probability; the
 * last row is the model's own prediction. Also prints the angular distance arccos(cos(x_ℓ, x_{ℓ+1}))/π between
 * consecutive layers' streams at the last token ("The Unreasonable Ineffectiveness of the Deeper Layers").
 */
@Command(name = "lens", mixinStandardHelpOptions = true,
        description = "Logit lens of a prompt (layer x position: top token and probability), optionally as a"
                + " heat-map PNG, and angular distances between layers. Decoder models only.")
public final class LensCommand extends SequenceCommand {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public LensCommand() {
    }

    @Mixin
    ModelPath.Decoder model = new ModelPath.Decoder();

    @Option(names = "--json", description = "Print the table and distances as JSON.")
    boolean json;

    @Option(names = "--image", description = "Also write a heat map (rows: taps 0..L top to bottom, columns:"
            + " positions; colour: top-token probability) to this .png file.")
    Path image;

    @Option(names = "--tuned", description = "Tuned-lens translators (safetensors: layer_translators.N.weight/bias).")
    Path tuned;

    @Override
    void check() {
        if (tuned != null) {
            Flags.file(tuned, "--tuned", "a safetensors file");
        }
        if (image != null) {
            Flags.require(image.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png"),
                    "--image", "a .png file name", image);
            Path dir = image.toAbsolutePath().getParent();
            Flags.require(dir != null && Files.isDirectory(dir), "--image", "in an existing folder", image);
        }
    }

    @Override
    int run(LoadedModel loaded, PrintWriter out) throws Exception {
        DecoderLM lm = ModelInput.decoder(loaded, "lens");
        int[] ids = input.ids(loaded, model());
        int layers = lm.stack().layers();
        HiddenStates hs = HiddenStates.collect(new PlannedStack(lm.stack(), ExecutionPlan.identity(layers)), ids);
        LogitLens.Cell[][] table;
        try (Safetensors st = tuned == null ? null : Safetensors.open(tuned)) {
            TunedLens translators = st == null ? null : tunedLens(st, layers);
            table = new LogitLens(lm.stack().finalNorm(), lm.outputHead(), translators).table(hs.taps());
        }
        double[] angular = LayerScores.angularDistances(List.of(LayerScores.streams(lm.stack(), ids)), 1);
        Tokenizer tok = loaded.tokenizer();
        if (json) {
            out.println(json(ids, table, angular, tok));
        } else {
            out.print(text(ids, table, angular, tok));
        }
        if (image != null) {
            LensImage.write(table, image);
            spec.commandLine().getErr().printf("wrote %s (%d x %d)%n", image, LensImage.width(table),
                    LensImage.height(table));
        }
        return 0;
    }

    private TunedLens tunedLens(Safetensors st, int layers) {
        try {
            return TunedLens.fromTensors(n -> st.names().contains(n) ? st.tensor(n) : null, layers);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--tuned " + tuned + ": " + e.getMessage(), e);
        }
    }

    // A token for display: its vocabulary text (SentencePiece's ▁ shown as a space), escaped, or its id.
    static String show(Tokenizer tok, int id) {
        return tok == null ? Integer.toString(id) : Main.printable(tok.tokenText(id).replace('▁', ' '));
    }

    private static String text(int[] ids, LogitLens.Cell[][] table, double[] angular, Tokenizer tok) {
        StringBuilder sb = new StringBuilder("logit lens: tap (0 = embedding, " + (table.length - 1)
                + " = last layer) x position: top token, probability\n");
        sb.append(String.format("%-6s", "input"));
        for (int id : ids) {
            sb.append(String.format(" %-16s", "'" + show(tok, id) + "'"));
        }
        sb.append('\n');
        for (int l = 0; l < table.length; l++) {
            sb.append(String.format("%-6d", l));
            for (LogitLens.Cell c : table[l]) {
                sb.append(String.format(" %-10s %5.3f", "'" + show(tok, c.token()) + "'", c.probability()));
            }
            sb.append('\n');
        }
        sb.append("angular distance d(x_l, x_l+1) at the last token:");
        for (int l = 0; l < angular.length; l++) {
            sb.append(String.format(" %d:%.4f", l, angular[l]));
        }
        return sb.append('\n').toString();
    }

    private static String json(int[] ids, LogitLens.Cell[][] table, double[] angular, Tokenizer tok) {
        JsonObject o = new JsonObject();
        JsonArray in = new JsonArray();
        for (int id : ids) {
            in.add(id);
        }
        o.add("tokens", in);
        JsonArray rows = new JsonArray();
        for (LogitLens.Cell[] row : table) {
            JsonArray r = new JsonArray();
            for (LogitLens.Cell c : row) {
                JsonObject cell = new JsonObject();
                cell.addProperty("token", c.token());
                if (tok != null) {
                    cell.addProperty("text", tok.tokenText(c.token()));
                }
                cell.addProperty("probability", c.probability());
                cell.addProperty("kl_from_final", c.klFromFinal());
                cell.addProperty("entropy", c.entropy());
                r.add(cell);
            }
            rows.add(r);
        }
        o.add("lens", rows);
        JsonArray a = new JsonArray();
        for (double v : angular) {
            a.add(v);
        }
        o.add("angular_distance", a);
        return o.toString();
    }
}
