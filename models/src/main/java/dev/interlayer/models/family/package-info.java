/**
 * The family registry: one {@link dev.interlayer.models.family.Family} record per model family (the names
 * files use for it, config parsers, tensor names, ignored names, builders), listed in
 * {@link dev.interlayer.models.family.Families}. The loader, the CLI and the docs read it.
 */
package dev.interlayer.models.family;
