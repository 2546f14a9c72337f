package dev.interlayer.models.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of {@code ./interlayer}. Errors reach the user as one line on stderr and a non-zero
 * exit code; {@code --verbose} adds the stack trace.
 */
@Command(name = "interlayer", mixinStandardHelpOptions = true, version = "interlayer 0.1.0",
        description = "Pure-Java transformer engine: embeddings, generation, inspection, benchmarks.")
public final class Main implements Runnable {
    /** Creates the root command; use {@link #commandLine()} to get it with every subcommand attached. */
    public Main() {
    }

    /** Exit code for bad input (files, arguments). */
    public static final int EXIT_USAGE = 2;
    /** Exit code for failures while running. */
    public static final int EXIT_FAILURE = 1;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean verbose;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Builds the command line with every {@link CliCommand} found on the class path. */
    public static CommandLine commandLine() {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        List<CliCommand> nested = new ArrayList<>();
        for (CliCommand c : ServiceLoader.load(CliCommand.class)) {
            if (c.parent() == null) {
                cl.addSubcommand(c);
            } else {
                nested.add(c);
            }
        }
        for (CliCommand c : nested) {          // after the top level, so that the parent exists
            CommandLine parent = cl.getSubcommands().get(c.parent());
            if (parent == null) {
                throw new IllegalStateException(c.getClass().getName() + " nests under missing command '"
                        + c.parent() + "'");
            }
            parent.addSubcommand(c);
        }
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            PrintWriter err = line.getErr();
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"))
                    || main.verbose;
            if (verbose) {
                ex.printStackTrace(err);
            } else {
                String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
                err.println("interlayer: " + msg.lines().findFirst().orElse(msg)
                        + "  (use --verbose for details)");
            }
            err.flush();
            return (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException) ? EXIT_USAGE
                    : EXIT_FAILURE;
        });
        return cl;
    }

    /** Runs the CLI and exits with its code. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
