package dev.interlayer.nn.crosslayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.plan.ResearchFixture;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Value residual (ResFormer, SVFormer), KV shifting, persistent memory and cross-layer KV sharing against
 * crosslayer.json (float64 PyTorch), each as one prefill, token by token, and prefill-then-decode (decode equals
 * recompute). Tolerance 1e-4 absolute (F32 weights and activations vs float64; observed ~1e-6).
 */
class CrossLayerGoldenTest {
    private static final ResearchFixture M = CrossLayerFixture.MODEL;
    static final int[][] SCHEDULES = {{7}, {1, 1, 1, 1, 1, 1, 1}, {3, 1, 1, 1, 1}, {2, 5}};

    @Test
    void valueResidual() {
        check("resformer", CrossLayerConfig.valueResidual(0.5f, 0.5f));
        check("resformer_learned", CrossLayerConfig.valueResidual(0.3f, 0.9f));
        check("svformer", CrossLayerConfig.valueResidual(1f, 0f));
        check("resformer_per_layer", new CrossLayerConfig(CrossLayerFixture.w("value_residual_lambda").toFloatArray(),
                null, null, false, 1));
    }

    @Test
    void kvShift() {
        check("kv_shift", CrossLayerConfig.kvShift(CrossLayerFixture.kvShifts()));
    }

    @Test
    void persistentMemory() {
        check("persistent_memory", CrossLayerConfig.memory(memory(), false));
        check("persistent_memory_replace_ffn", CrossLayerConfig.memory(memory(), true));
    }

    @Test
    void sharedKvCacheAndItsSavedMemory() {
        check("cla_2", CrossLayerConfig.shareKv(2));
        check("cla_3", CrossLayerConfig.shareKv(3));
        CrossLayerStack cla = new CrossLayerStack(M.stack, CrossLayerConfig.shareKv(3));
        CrossLayerStack.CacheReport r = cla.cacheReport(32);
        assertEquals(2.0 / 3.0, r.savedFraction(), 1e-12);   // 6 layers in groups of 3: 2 of 6 caches kept
        assertEquals(r.cacheFloats(), cla.newSession(32, 4).cacheFloats());
        System.out.printf("CLA group 3: cache %d of %d floats, saves %.0f%%%n", r.cacheFloats(), r.plainFloats(),
                100 * r.savedFraction());
    }

    static Map<Integer, CrossLayerConfig.PersistentMemory> memory() {
        Map<Integer, CrossLayerConfig.PersistentMemory> mem = new HashMap<>();
        for (int l : new int[] {1, 4}) {
            mem.put(l, new CrossLayerConfig.PersistentMemory(CrossLayerFixture.w("memory." + l + ".key"),
                    CrossLayerFixture.w("memory." + l + ".value")));
        }
        return mem;
    }

    private static void check(String name, CrossLayerConfig cfg) {
        double[] want = ResearchFixture.doubles(CrossLayerFixture.find(name).get("out"));
        CrossLayerStack stack = new CrossLayerStack(M.stack, cfg);
        for (int[] schedule : SCHEDULES) {
            double err = ResearchFixture.maxAbs(run(stack, M.tokens, schedule), want);
            System.out.printf("%-30s %-22s max abs err %.3e%n", name, Arrays.toString(schedule), err);
            assertTrue(err <= 1e-4, name + " " + Arrays.toString(schedule) + ": " + err);
        }
    }

    static float[] run(CrossLayerStack stack, int[] tokens, int[] schedule) {
        CrossLayerSession s = stack.newSession(32, 8);
        return ResearchFixture.run(tokens, schedule, M.hidden, c -> c.length == 1 ? stack.decode(c[0], s)
                : stack.forward(c, s));
    }

    @Test
    void badConfigurationsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CrossLayerStack(M.stack, new CrossLayerConfig(
                null, Map.of(1, CrossLayerConfig.KvShift.identity(2)), null, false, 2)));
        assertTrue(e.getMessage().contains("layer 1"), e.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> new CrossLayerStack(M.stack,
                CrossLayerConfig.memory(Map.of(0, new CrossLayerConfig.PersistentMemory(Tensor.zeros(3, 2, 5),
                        Tensor.zeros(3, 2, 5))), false)));
        assertTrue(m.getMessage().contains("[4, N, 4]"), m.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CrossLayerConfig.shareKv(0));
    }
}
