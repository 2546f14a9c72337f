package dev.interlayer.models.cli;

import static dev.interlayer.models.cli.LlamaCliTest.run;
import static dev.interlayer.models.cli.LlamaCliTest.stories;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.cli.LlamaCliTest.Run;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * generate --plan / --draft-layers / --router-stats, lens and patch through Main's command line, on stories260K
 * (5 layers, 8 heads, vocabulary 512) and the synthetic MoE checkpoints.
 */
class ResearchCliTest {
    private static final String[] PROMPTS = {"Once upon a time", "The little girl", "One day, a cat"};

    private static Run greedy(String prompt, String... extra) {
        String[] base = {"generate", "--model", stories(), "--prompt", prompt, "--temperature", "0", "--max-tokens",
                "40", "--threads", "1"};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        Run r = run(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    @Test
    void selfSpeculativeGreedyEqualsPlainGreedy() {
        for (String p : PROMPTS) {
            String want = greedy(p).out();
            for (String e : new String[] {"1", "2", "4", "5"}) {
                Run r = greedy(p, "--draft-layers", e, "--speculations", "3");
                assertEquals(want, r.out(), "\"" + p + "\", --draft-layers " + e);
                System.out.print(r.err());   // acceptance rate and tokens/s per draft depth (noisy timing)
                assertTrue(r.err().matches("(?s).*acceptance \\d\\.\\d{3} .*tok/s.*"), r.err());
            }
        }
    }

    @Test
    void identityPlanEqualsPlainAndOtherPlansRun() {
        String want = greedy(PROMPTS[0]).out();
        assertEquals(want, greedy(PROMPTS[0], "--plan", "0,1,2,3,4").out());
        Run other = greedy(PROMPTS[0], "--plan", "0,1,(2|3),4f");
        assertTrue(other.out().startsWith(PROMPTS[0]), other.out());
        // a draft depth inside a plan: the plan is the verifier, so the output equals the plan's own greedy output
        assertEquals(greedy(PROMPTS[1], "--plan", "0,2,1,4").out(),
                greedy(PROMPTS[1], "--plan", "0,2,1,4", "--draft-layers", "2").out());
    }

    @Test
    void planFlagsAreCheckedAndNamed() {
        Run r = run("generate", "--model", stories(), "--prompt", "x", "--plan", "0,(1|2");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--plan"), r.err());
        r = run("generate", "--model", stories(), "--prompt", "x", "--plan", "0,7");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--plan") && r.err().contains("layer 7"), r.err());
        r = run("generate", "--model", stories(), "--prompt", "x", "--draft-layers", "0");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--draft-layers must be >= 1, got 0"), r.err());
        r = run("generate", "--model", stories(), "--prompt", "x", "--plan", "0,1", "--draft-layers", "3");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--draft-layers must be <= the 2 steps of --plan, got 3"), r.err());
        r = run("generate", "--model", stories(), "--prompt", "x", "--draft-layers", "9");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--draft-layers must be <= the model's 5 plan steps, got 9"), r.err());
        r = run("generate", "--model", stories(), "--prompt", "x", "--draft-layers", "2", "--router-stats");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--router-stats"), r.err());
    }

    @Test
    void lensTableJsonAndImage(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("lens.png");
        Run r = run("lens", "--model", stories(), "--prompt", PROMPTS[0], "--json", "--image", png.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonArray ids = o.getAsJsonArray("tokens");
        JsonArray lens = o.getAsJsonArray("lens");
        assertEquals(6, lens.size());                       // taps x_0 (embedding) .. x_5
        int t = ids.size();
        // the last row is the model's own prediction: the argmax of `logits` at every position
        Run lg = run("logits", "--model", stories(), "--tokens", ids.toString().replaceAll("[\\[\\]]", ""),
                "--json");
        JsonArray logits = JsonParser.parseString(lg.out()).getAsJsonObject().getAsJsonArray("logits");
        for (int p = 0; p < t; p++) {
            JsonArray row = logits.get(p).getAsJsonArray();
            int best = 0;
            for (int v = 1; v < row.size(); v++) {
                best = row.get(v).getAsDouble() > row.get(best).getAsDouble() ? v : best;
            }
            JsonObject cell = lens.get(5).getAsJsonArray().get(p).getAsJsonObject();
            assertEquals(best, cell.get("token").getAsInt(), "position " + p);
            assertEquals(0, cell.get("kl_from_final").getAsDouble(), 1e-9);
            double prob = cell.get("probability").getAsDouble();
            assertTrue(prob > 0 && prob <= 1, "probability " + prob);
        }
        JsonArray angular = o.getAsJsonArray("angular_distance");
        assertEquals(5, angular.size());
        for (var a : angular) {
            assertTrue(a.getAsDouble() > 0 && a.getAsDouble() < 1, angular.toString());
        }
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(t * LensImage.CELL, img.getWidth());
        assertEquals(6 * LensImage.CELL, img.getHeight());
        // the top-left cell's colour is tap 0, position 0's probability on the ramp
        double p00 = lens.get(0).getAsJsonArray().get(0).getAsJsonObject().get("probability").getAsDouble();
        assertEquals(LensImage.colour(p00), img.getRGB(1, 1) & 0xFFFFFF);

        Run text = run("lens", "--model", stories(), "--prompt", PROMPTS[0]);
        assertEquals(0, text.code(), text.err());
        assertEquals(1 + 1 + 6 + 1, text.out().lines().count(), text.out());  // title, input, 6 taps, distances
        assertTrue(text.out().contains("angular distance"), text.out());
        System.out.print(text.out());
    }

    @Test
    void lensFlagsAreChecked(@TempDir Path dir) throws Exception {
        Run r = run("lens", "--model", stories(), "--prompt", "x", "--image", dir.resolve("a.jpg").toString());
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--image must be a .png file name"), r.err());
        r = run("lens", "--model", stories(), "--prompt", "x", "--tuned", dir.resolve("none.safetensors").toString());
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--tuned") && r.err().contains("not found"), r.err());
        Path empty = Files.writeString(dir.resolve("t.safetensors"), "");
        r = run("lens", "--model", stories(), "--prompt", "x", "--tuned", empty.toString());
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
    }

    @Test
    void patchJsonRestoresCleanMetricAtTheLastTap() {
        Run r = run("patch", "--model", stories(), "--clean", "Once upon a time", "--corrupted", "Once upon a day",
                "--json");
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        int t = o.getAsJsonArray("clean_tokens").size();
        double clean = o.get("clean").getAsDouble(), corrupt = o.get("corrupted").getAsDouble();
        assertNotEquals(o.get("target").getAsInt(), o.get("foil").getAsInt());
        JsonArray res = o.getAsJsonArray("residual");
        assertEquals(6, res.size());
        // restoring the last tap at the last position gives the clean final logits there (tolerance: F32 rounding
        // of the same computation along a different call path)
        assertEquals(clean, res.get(5).getAsJsonArray().get(t - 1).getAsDouble(), 1e-4);
        // the positions where the prompts agree carry the same residual at tap 0, so patching them changes nothing
        assertEquals(corrupt, res.get(0).getAsJsonArray().get(0).getAsDouble(), 1e-4);
        JsonArray heads = o.getAsJsonArray("heads");
        assertEquals(5, heads.size());
        assertEquals(8, heads.get(0).getAsJsonArray().size());

        Run bad = run("patch", "--model", stories(), "--clean", "Once upon a time", "--corrupted", "Once");
        assertEquals(Main.EXIT_USAGE, bad.code());
        assertTrue(bad.err().contains("--clean encodes to 5 tokens and --corrupted to 2"), bad.err());
        bad = run("patch", "--model", stories(), "--clean", "a b", "--corrupted", "a c", "--target", "99999");
        assertEquals(Main.EXIT_USAGE, bad.code());
        assertTrue(bad.err().contains("--target must be a token id below the vocabulary size 512"), bad.err());
    }

    @Test
    void routerStatsOnMoeModels() {
        for (String f : new String[] {"synthetic/synth-mixtral-moe-f32.gguf", "synthetic/synth-qwen2moe-f32.gguf"}) {
            String model = SharedModels.require(f).toString();
            Run r = run("generate", "--model", model, "--tokens", "1,2,3,4,5", "--temperature", "0", "--max-tokens",
                    "4", "--router-stats");
            assertEquals(0, r.code(), r.err());
            System.out.print(r.err());
            Matcher m = Pattern.compile("router layer (\\d+): tokens (\\d+), load \\[([0-9, ]+)\\], entropy ([0-9.]+)")
                    .matcher(r.err());
            int layers = 0;
            while (m.find()) {
                layers++;
                int tokens = Integer.parseInt(m.group(2));
                int slots = 0;
                for (String c : m.group(3).split(", ")) {
                    slots += Integer.parseInt(c);
                }
                // prompt (5) + every generated token fed back but the last (3); each makes k selections
                assertEquals(8, tokens, r.err());
                assertEquals(0, slots % tokens, "slots " + slots + " not k * tokens " + tokens);
                assertTrue(slots / tokens >= 1 && Double.parseDouble(m.group(4)) >= 0, r.err());
            }
            assertTrue(layers >= 1, f + ": " + r.err());
        }
        Run dense = run("generate", "--model", stories(), "--tokens", "1,2", "--max-tokens", "2", "--router-stats");
        assertEquals(0, dense.code(), dense.err());
        assertTrue(dense.err().contains("no MoE layers"), dense.err());
    }
}
