package dev.interlayer.models.quantize;

import dev.interlayer.models.bert.BertModel;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.EncoderStack;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the calibration time of the encoder GPTQ protocol goes, for one block of a BERT GGUF: the per-sequence
 * statistics pass without and with the Hessian taps, and the packed output pass; wall and process CPU seconds
 * (CPU time is less sensitive to a loaded machine). Not a test (no Test suffix):
 * {@code java -cp ... dev.interlayer.models.quantize.EncoderPassTiming MODEL.gguf CALIBRATION.txt [repeats]}.
 */
public final class EncoderPassTiming {
    private EncoderPassTiming() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<int[]> calib = new ArrayList<>();
        try (EmbeddingModel em = EmbeddingModel.fromGguf(model)) {
            for (String line : Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    calib.add(em.tokenIds(line.strip()));
                }
            }
        }
        try (GgufFile file = Gguf.open(model)) {
            EncoderStack stack = BertModel.load(file, file).stack();
            EncoderStack block = new EncoderStack(null, null, null, List.of(stack.blocks().get(0)), null);
            List<Tensor> xs = new ArrayList<>();
            long tokens = 0;
            for (int[] seq : calib) {
                xs.add(Calibration.encoderInput(stack, seq));
                tokens += seq.length;
            }
            System.out.printf("%d sequences, %d tokens%n", xs.size(), tokens);
            for (int r = 0; r < repeats; r++) {
                time("per-sequence forward, no taps", () -> xs.forEach(x -> Calibration.encoderBlocks(block, x, null)));
                time("per-sequence forward + Hessians", () -> {
                    CalibrationStats s = new CalibrationStats(true);
                    xs.forEach(x -> Calibration.encoderBlocks(block, x, s));
                    s.activations().keySet().forEach(n -> s.hessian(n).hessian());
                });
                time("packed forward", () -> Calibration.encoderBlocks(block, xs));
            }
        }
    }

    private static void time(String what, Runnable r) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
        r.run();
        System.out.printf("%-34s wall %6.2f s  cpu %6.2f s%n", what, (System.nanoTime() - t0) / 1e9,
                (os.getProcessCpuTime() - c0) / 1e9);
    }
}
