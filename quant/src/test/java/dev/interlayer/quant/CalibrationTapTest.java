package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.LinearSite;
import dev.interlayer.nn.LinearTap;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Names, padding masks and row hand-over of the bridge from the engine's tap to a calibration sink. */
class CalibrationTapTest {
    @Test
    void namesFollowGgufAndEveryLinearMapsToTheInputItReads() {
        assertEquals("blk.3.attn_qkv", CalibrationTap.name(3, LinearSite.ATTN_QKV, -1));
        assertEquals("blk.3.ffn_down.7", CalibrationTap.name(3, LinearSite.FFN_DOWN, 7));
        assertEquals("blk.0.ffn_up_shexp", CalibrationTap.name(0, LinearSite.FFN_IN, LinearTap.SHARED_EXPERT));
        assertEquals("blk.3.attn_qkv", CalibrationTap.keyOf("blk.3.attn_k"));
        assertEquals("blk.3.attn_output", CalibrationTap.keyOf("blk.3.attn_output"));
        assertEquals("blk.1.ffn_up.5", CalibrationTap.keyOf("blk.1.ffn_gate.5"));
        assertEquals("blk.1.ffn_down_shexp", CalibrationTap.keyOf("blk.1.ffn_down_shexp"));
        var e = assertThrows(IllegalArgumentException.class, () -> CalibrationTap.keyOf("token_embd"));
        assertTrue(e.getMessage().contains("blk.<layer>.<linear>"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CalibrationTap.keyOf("blk.0.attn_z"));
        assertTrue(e.getMessage().contains("known linears"), e.getMessage());
    }

    @Test
    void rowsOfAViewAreHandedOverFromTheirFirstElementAndTheMaskAppliesToDenseSitesOnly() {
        List<Object[]> calls = new ArrayList<>();
        CalibrationTap tap = new CalibrationTap((name, rows, n, dIn, keep) ->
                calls.add(new Object[]{name, java.util.Arrays.copyOf(rows, n * dIn), n, keep}));
        Tensor all = Tensor.wrap(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, Shape.of(4, 2));
        boolean[] mask = {true, false};
        tap.keep(mask);
        tap.observe(2, LinearSite.ATTN_OUTPUT, -1, all.slice(0, 1, 3));      // a view starting at row 1
        tap.observe(2, LinearSite.FFN_IN, 4, all.slice(0, 0, 1));            // expert rows: no mask
        assertEquals("blk.2.attn_output", calls.get(0)[0]);
        assertArrayEquals(new float[]{3, 4, 5, 6}, (float[]) calls.get(0)[1]);
        assertEquals(mask, calls.get(0)[3]);
        assertEquals("blk.2.ffn_up.4", calls.get(1)[0]);
        assertEquals(null, calls.get(1)[3]);
        var e = assertThrows(IllegalArgumentException.class,
                () -> tap.observe(0, LinearSite.ATTN_QKV, -1, all));
        assertTrue(e.getMessage().contains("mask of 2 entries for 4 rows"), e.getMessage());
    }
}
