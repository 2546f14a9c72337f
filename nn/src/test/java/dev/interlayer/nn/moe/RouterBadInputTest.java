package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad configurations and inputs of the routed layers fail with messages naming what is wrong. */
class RouterBadInputTest {
    static void fails(Class<? extends Throwable> type, String needle, Executable e) {
        Throwable t = assertThrows(type, e);
        assertTrue(t.getMessage().contains(needle), "message should name '" + needle + "': " + t.getMessage());
    }

    @Test
    void badConfigurationsAndInputsAreRejectedClearly() {
        RandomLayers r = new RandomLayers(0xBADL);
        List<FeedForward> two = List.of(r.swiGlu(8, 4), r.swiGlu(8, 4));
        fails(IllegalArgumentException.class, "3 experts", () -> new RoutedMoe(TopKRouter.softmax(r.linear(3, 8), 1,
                true), two, RoutedMoe.Combine.WEIGHTED_SUM));
        fails(ShapeMismatchException.class, "expert 1", () -> new RoutedMoe(TopKRouter.softmax(r.linear(2, 8), 1,
                true), List.of(r.swiGlu(8, 4), r.swiGlu(8, 5)), RoutedMoe.Combine.WEIGHTED_SUM));
        fails(IllegalArgumentException.class, "capacity limit", () -> new RoutedMoe(new ExpertChoiceRouter(
                r.linear(2, 8), 2), two, RoutedMoe.Combine.WEIGHTED_SUM, new CapacityLimit(1)));
        fails(IllegalArgumentException.class, "topK 3", () -> TopKRouter.softmax(r.linear(2, 8), 3, true));
        fails(IllegalArgumentException.class, "table[1] = 2", () -> new HashRouter(new int[] {0, 2}, 2));
        fails(IllegalArgumentException.class, "capacityFactor", () -> new CapacityLimit(0));
        fails(IllegalArgumentException.class, "prior", () -> new DemixMixture(2, DemixMixture.Ensemble.CACHED_PRIOR,
                new double[] {0.5, 0.6}, 0));
        fails(IllegalArgumentException.class, "multiple of the group size", () -> new MoeutStack(List.of(), 2));
        fails(IllegalArgumentException.class, "H = 4", () -> new RecurrentRouter(r.linear(3, 8), r.linear(2, 4),
                new RecurrentCell(r.linear(12, 4), r.linear(12, 4), RecurrentCell.Kind.GRU), 1, true));

        RoutedMoe m = new RoutedMoe(TopKRouter.softmax(r.linear(2, 8), 1, true), two, RoutedMoe.Combine.WEIGHTED_SUM);
        fails(ShapeMismatchException.class, "RoutedMoe.forward", () -> m.forward(r.input(3, 7), Tensor.zeros(3, 7),
                m.newScratch(3)));
        fails(ShapeMismatchException.class, "selection input", () -> m.forward(r.input(3, 8), r.input(3, 5),
                Tensor.zeros(3, 8), m.newScratch(3)));
        fails(IllegalArgumentException.class, "maxTokens", () -> m.forward(r.input(4, 8), Tensor.zeros(4, 8),
                m.newScratch(3)));
        RoutingContext ctx = new RoutingContext(4);
        ctx.begin(null, 2, 0);
        fails(IllegalStateException.class, "begun for 2 tokens", () -> m.forward(r.input(3, 8), Tensor.zeros(3, 8),
                m.newScratch(4, ctx)));
        RoutedMoe balanced = new RoutedMoe(new BaseRouter(r.linear(2, 8), true), two, RoutedMoe.Combine.MIX_WITH_INPUT);
        fails(IllegalArgumentException.class, "multiple of the expert count", () -> balanced.forward(r.input(3, 8),
                Tensor.zeros(3, 8), balanced.newScratch(3)));
        SwitchHeadConfig sc = new SwitchHeadConfig(8, 2, 4, 1, 1, 0.5, 10000, 8);
        fails(ShapeMismatchException.class, "SwitchHead wo", () -> SwitchHeadAttention.gatedHeads(sc, r.linear(8, 8),
                r.linear(8, 8), r.linear(8, 8), r.linear(8, 7), r.linear(2, 8)));
    }
}
