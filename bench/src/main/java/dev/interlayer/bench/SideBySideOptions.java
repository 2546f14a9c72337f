package dev.interlayer.bench;

import java.nio.file.Path;

/** {@link SideBySide}'s command line: {@code OLD.jar NEW.jar WORKLOAD [--name value]…}. */
record SideBySideOptions(Path oldJar, Path newJar, String workload, String model, int threads, int batch,
                         int pairs, double turn, double warmup) {

    static SideBySideOptions parse(String[] args) {
        String model = null;
        int threads = 1, batch = 32, pairs = 20;
        double turn = 1.0, warmup = 20;
        for (int i = 3; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            String v = args[i + 1];
            try {
                switch (args[i]) {
                    case "--model" -> model = v;
                    case "--threads" -> threads = Integer.parseInt(v);
                    case "--batch" -> batch = Integer.parseInt(v);
                    case "--pairs" -> pairs = Integer.parseInt(v);
                    case "--turn" -> turn = Double.parseDouble(v);
                    case "--warmup" -> warmup = Double.parseDouble(v);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--model, --threads, --batch, --pairs, --turn, --warmup)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(args[i] + " " + v + ": not a number");
            }
        }
        if (!args[2].equals("embed") && model == null) {
            throw new IllegalArgumentException(args[2] + " needs --model FILE");
        }
        if (threads < 1 || batch < 1 || pairs < 1 || !(turn > 0) || !(warmup >= 0)) {
            throw new IllegalArgumentException("threads, batch, pairs ≥ 1 and turn > 0, warmup ≥ 0 seconds");
        }
        return new SideBySideOptions(Path.of(args[0]), Path.of(args[1]), args[2], model, threads, batch, pairs, turn,
                warmup);
    }

    /** What the score counts. */
    String unit() {
        return workload.equals("embed") ? "sentences" : workload.equals("prefill") ? "prompt tokens" : "tokens";
    }
}
