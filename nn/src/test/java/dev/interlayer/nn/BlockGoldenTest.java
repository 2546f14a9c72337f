package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every norm placement (PRE, POST, PERI, OUTPUT, NONE, LayerNorm Scaling, DeepNorm, parallel GPT-J /
 * NeoX, MoE FFN) against golden/blocks.json, for prefill, decode, and prefill-then-decode.
 * Tolerance 1e-4 absolute (F32 vs float64 reference).
 */
class BlockGoldenTest {
    @GoldenCases("blocks.json")
    void matchesReference(String name, JsonObject c) {
        TransformerBlock block = new Golden.Builder(c.getAsJsonObject("weights")).block(c.getAsJsonObject("block"), "");
        Tensor x = Golden.tensor(c.getAsJsonObject("x"));
        double atol = c.get("atol").getAsDouble();
        double[] expected = Golden.doubles(c.getAsJsonObject("output"));
        for (int[] schedule : Runs.schedules(x.dim(0))) {
            double err = Runs.maxAbs(Runs.block(block, x, schedule), expected);
            System.out.printf("block %-26s %-16s max abs err %.3e%n", name, Runs.name(schedule, x.dim(0)), err);
            assertTrue(err <= atol, name + ": max abs err " + err + " > " + atol);
        }
    }

    /**
     * F16/BF16 weight storage: a block whose weights are stored in the half format must equal the same
     * block with F32 weights holding the rounded values (the kernels widen exactly), within 1e-5
     * (only accumulation order may differ).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"pre_swiglu, BF16", "pre_swiglu, F16", "peri_gemma_geglu, BF16", "pre_mixtral_moe, BF16"})
    void halfPrecisionWeightsMatchRoundedF32(String name, DType dtype) {
        JsonObject c = Golden.find("blocks.json", name);
        JsonObject w = c.getAsJsonObject("weights");
        TransformerBlock half = new Golden.Builder(w, t -> Golden.to(dtype, t)).block(c.getAsJsonObject("block"), "");
        TransformerBlock rounded = new Golden.Builder(w, t -> Golden.to(dtype, t).toF32())
                .block(c.getAsJsonObject("block"), "");
        Tensor x = Golden.tensor(c.getAsJsonObject("x"));
        for (int[] schedule : Runs.schedules(x.dim(0))) {
            double err = Runs.maxAbs(Runs.block(half, x, schedule), Runs.block(rounded, x, schedule));
            System.out.printf("block %-26s %s weights vs rounded F32, %-16s max abs diff %.3e%n", name, dtype,
                    Runs.name(schedule, x.dim(0)), err);
            assertTrue(err <= 1e-5, name + " " + dtype + ": " + err);
        }
    }
}
