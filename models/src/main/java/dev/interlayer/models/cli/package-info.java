/**
 * The {@code interlayer} command line: one {@code CliCommand} per subcommand (generate, logits, hidden,
 * embed, tokenize, inspect, demo) and {@code Main}, the only place that maps exceptions to exit codes.
 */
package dev.interlayer.models.cli;
