package dev.interlayer.models.cli;

/**
 * A subcommand of {@code ./interlayer}, found with {@link java.util.ServiceLoader}: implementations
 * are picocli {@code @Command}-annotated classes with a public no-argument constructor that
 * implement {@link java.util.concurrent.Callable Callable&lt;Integer&gt;}, listed in
 * {@code META-INF/services/dev.interlayer.models.cli.CliCommand}. Modules above {@code models}
 * (the {@code bench} module) add commands the same way.
 */
public interface CliCommand {
    /**
     * Name of the top-level command this one nests under (e.g. {@code "bench"} for
     * {@code ./interlayer bench generate}), or null for a top-level command.
     */
    default String parent() {
        return null;
    }
}
