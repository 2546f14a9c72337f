package dev.interlayer.models.cli;

import dev.interlayer.models.load.LoadedModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

// The frame of the commands that load one model and run it (hidden, logits, lens, patch, generate): every option is
// checked before the (possibly slow) load, in the order --tokens/--prompt, --model, the command's own, --threads;
// then the model is opened, run on, and closed, and stdout flushed. Subclasses declare --model themselves, as a field
// or a ModelPath mixin (its help names the formats each reads); picocli fills the fields here as theirs.
// SequenceCommand adds --tokens/--prompt.
abstract class ModelCommand implements CliCommand, Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    // --model as the command declares it (required there, so set once picocli has parsed the arguments)
    final Path model() {
        return spec.findOption("--model").getValue();
    }

    // the command's --tokens/--prompt mixin, or null when it reads no such input
    InputOptions input() {
        return null;
    }

    // checks the command's own options (before the load); none by default
    void check() {
    }

    // runs the command on the loaded model (closed afterwards); returns the exit status
    abstract int run(LoadedModel loaded, PrintWriter out) throws Exception;

    @Override
    public final Integer call() throws Exception {
        if (input() != null) {
            input().requireOne();
        }
        Flags.exists(model(), "--model");
        check();
        threads.apply();
        PrintWriter out = spec.commandLine().getOut();
        try (LoadedModel loaded = ModelInput.open(model())) {
            int status = run(loaded, out);
            out.flush();
            return status;
        }
    }
}
