package dev.interlayer.models.cli;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.nn.KvType;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * picocli mixin: {@code --kv-type f32|f16|q8_0}, the storage of every session's KV cache (generate, serve,
 * bench generate). F16 halves the cache, Q8_0 (GGML blocks of 32 along the head dimension) stores 34 bytes per
 * 32 values; F32 is the default. Public because {@code bench} mixes it in too.
 */
public final class KvTypeOption {
    /** Creates the mixin (picocli fills the field). */
    public KvTypeOption() {
    }

    @Option(names = "--kv-type", defaultValue = "f32", description = "KV cache storage: f32 (default), f16 (2 bytes"
            + " per value) or q8_0 (GGML Q8_0 blocks along the head dimension, 1.06 bytes per value; head dims that"
            + " are multiples of 32) for long contexts.")
    String kvType = "f32";

    /**
     * The chosen type; call before loading the model.
     *
     * @throws IllegalArgumentException {@code "--kv-type must be one of f32, f16, q8_0, got q4_0"}
     */
    public KvType type() {
        for (KvType t : KvType.values()) {
            if (t.cliName().equals(kvType.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        Flags.require(false, "--kv-type", "one of f32, f16, q8_0", kvType);
        throw new AssertionError("unreachable");
    }

    /**
     * {@code lm} with its sessions caching in the chosen type (lm itself for f32).
     *
     * @throws IllegalArgumentException if a non-f32 type is asked of a model that is not an nn decoder, or q8_0 of
     *                                  a model whose head dimension is not a multiple of 32 (naming "--kv-type")
     */
    public CausalLM apply(CausalLM lm) {
        KvType t = type();
        if (t == KvType.F32) {
            return lm;
        }
        if (!(lm instanceof DecoderLM d)) {
            throw new IllegalArgumentException("--kv-type " + t.cliName() + ": this model is not an nn decoder;"
                    + " only f32 is available");
        }
        try {
            return d.withKvType(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--kv-type " + t.cliName() + ": " + e.getMessage(), e);
        }
    }
}
