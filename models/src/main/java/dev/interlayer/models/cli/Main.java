package dev.interlayer.models.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean verbose;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());   // with every subcommand attached
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
                err.println("interlayer: " + describe(ex) + "  (use --verbose for details)");
            }
            err.flush();
            return (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException) ? EXIT_USAGE
                    : EXIT_FAILURE;
        });
        return cl;
    }

    /**
     * One printable line for an error: file-system failures say what happened to which file ("not found",
     * "is a directory") instead of Java's bare path, and bytes from a damaged file are escaped.
     */
    static String describe(Throwable ex) {
        Throwable t = ex instanceof java.io.UncheckedIOException && ex.getCause() != null ? ex.getCause() : ex;
        String msg;
        if (t instanceof NoSuchFileException e) {
            msg = e.getFile() + ": not found" + (e.getReason() == null ? "" : " (" + e.getReason() + ")");
        } else if (t instanceof AccessDeniedException e) {
            msg = e.getFile() + ": permission denied";
        } else if (t instanceof FileSystemException e && "Is a directory".equals(e.getReason())) {
            msg = e.getFile() + ": is a directory; expected a file";
        } else if (t instanceof java.io.IOException && "Is a directory".equals(t.getMessage())) {
            msg = "a directory was given where a file is expected";
        } else {
            msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        }
        return printable(msg.lines().findFirst().orElse(msg));
    }

    /**
     * {@code s} with control characters, U+FFFD (undecodable bytes), unpaired surrogates and other non-printing
     * characters shown as {@code \xNN} or a backslash-u {@code NNNN} escape, so text read from a damaged file
     * cannot garble the terminal.
     */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            boolean pairedSurrogate = Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1));
            if (pairedSurrogate) {
                sb.append(c).append(s.charAt(++i));
            } else if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\x%02X", (int) c));
            } else if (c == '\uFFFD' || type == Character.CONTROL || type == Character.SURROGATE
                    || type == Character.UNASSIGNED || type == Character.FORMAT || type == Character.PRIVATE_USE) {
                sb.append(String.format("\\u%04X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Runs the CLI and exits with its code. */
    public static void main(String[] args) {
        // One line per log record (System.Logger goes to java.util.logging by default, whose format is two lines),
        // unless the user configured logging. Must run before the first logger is created.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null
                && System.getProperty("java.util.logging.config.file") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "interlayer: %4$s: %5$s%6$s%n");
        }
        System.exit(commandLine().execute(args));
    }
}
