package dev.interlayer.models.quantize;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.quant.Aespa;
import dev.interlayer.quant.BitLadder;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.MixedPrecision;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How close {@code --method mixed --target-kld X} gets to X, for many bounds from one set of per-format runs (the CLI
 * redoes the runs for every bound): the calibration KLD of every point of the sensitivity path, then for each bound
 * the bisection alone ({@link BitLadder#atBound(double[][], double[][], double, MixedPrecision.Evaluator)}) and with
 * the gap closed as the CLI does ({@link MixedQuantizer#BAND}, {@link MixedQuantizer#EXTRA_EVALUATIONS}), and both
 * results' held-out KLD. CLI defaults: GPTQ, act-order with static groups, damping 0.01, MSE grids, error
 * propagation 0.5, ladder {@value LadderFormat#DEFAULT_LADDER}, windows of 512. Not a test (no Test suffix):
 * {@code java -cp ... dev.interlayer.models.quantize.MixedBoundProbe MODEL.gguf CALIBRATION.txt HELDOUT.txt X...}
 * ({@code -Dprobe.path=false}: skip evaluating every path point).
 */
public final class MixedBoundProbe {
    private MixedBoundProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        double[] bounds = Arrays.stream(args, 3, args.length).mapToDouble(Double::parseDouble).toArray();
        try (LoadedModel f32 = ModelLoader.open(model); GgufFile file = Gguf.open(model)) {
            int[] calib = f32.tokenizer().encode(Files.readString(Path.of(args[1]), StandardCharsets.UTF_8));
            int[] heldOut = f32.tokenizer().encode(Files.readString(Path.of(args[2]), StandardCharsets.UTF_8));
            int window = Math.min(512, f32.requireLm().contextLength());
            var opt = new SiteQuantizer.Options(SiteQuantizer.Method.GPTQ, GgmlBlocks.scheme(4, 32, false, ClipSearch.MSE),
                    new GptqOptions(0.01, 128, true, true), Aespa.Options.QKV, true);
            long t0 = System.nanoTime();
            MixedQuantizer.Prepared p = MixedQuantizer.prepare(file, calib, window, opt,
                    LadderFormat.ladder(LadderFormat.DEFAULT_LADDER), s -> { });
            System.out.printf("prepared in %.1f s (%d sensitivity evaluations)%n", (System.nanoTime() - t0) / 1e9,
                    p.evals()[0]);
            Map<String, Double> seen = new HashMap<>();
            MixedPrecision.Evaluator kld = f -> seen.computeIfAbsent(Arrays.toString(f), k -> p.kld(f));
            List<int[]> path = BitLadder.path(p.cost(), p.bits());
            long t1 = System.nanoTime();
            System.out.println("path point, bits per weight, calibration KLD");
            for (int i = 0; Boolean.parseBoolean(System.getProperty("probe.path", "true")) && i < path.size(); i++) {
                System.out.printf("%d %.4f %.6f%n", i, BitLadder.totalBits(p.bits(), path.get(i)) / p.weights(),
                        kld.metric(path.get(i)));
            }
            System.out.printf("%d path points evaluated in %.1f s%n", path.size(), (System.nanoTime() - t1) / 1e9);
            System.out.println("bound | bisection: bpw, calib KLD / bound, held-out KLD / bound | closed: bpw,"
                    + " calib / bound, held-out / bound, evaluations (bisection + extra)");
            for (double bound : bounds) {
                BitLadder.Choice plain = BitLadder.atBound(p.cost(), p.bits(), bound, kld);
                BitLadder.Choice closed = BitLadder.atBound(p.cost(), p.bits(), bound, MixedQuantizer.BAND,
                        MixedQuantizer.EXTRA_EVALUATIONS, kld);
                System.out.printf("%.4f | %.4f %.3f %.3f | %.4f %.3f %.3f %d (%d + %d)%n", bound,
                        plain.bits() / p.weights(), plain.metric() / bound,
                        heldOut(p, f32, heldOut, window, plain.formats()) / bound,
                        closed.bits() / p.weights(), closed.metric() / bound,
                        heldOut(p, f32, heldOut, window, closed.formats()) / bound, closed.evaluations(),
                        plain.evaluations(), closed.evaluations() - plain.evaluations());
            }
        }
    }

    private static double heldOut(MixedQuantizer.Prepared p, LoadedModel f32, int[] ids, int window, int[] formats)
            throws java.io.IOException {
        var m = SequentialQuantizer.decoder(p.file(), MixedQuantizer.assemble(p.names(), formats, p.deq()));
        return LmEval.evaluate(m, f32.requireLm(), ids, window).klMean();
    }
}
