package dev.interlayer.models.cli;

import dev.interlayer.models.generate.ForwardingLM;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.StackSession;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.RoutedMoe;
import dev.interlayer.nn.moe.RouterStats;
import java.io.PrintWriter;

// A DecoderLM whose sessions add every MoE layer's router statistics of each call to a running total per layer
// (a layer's own statistics are overwritten by its next call), for `generate --router-stats`.
final class RouterStatsLM implements ForwardingLM {
    private static final int CHUNK = DecoderLM.DEFAULT_CHUNK;
    private final DecoderLM lm;
    private final RouterStats[] totals;   // [layers], null for a dense layer; filled by the first call

    RouterStatsLM(DecoderLM lm) {
        this.lm = lm;
        this.totals = new RouterStats[lm.stack().layers()];
    }

    @Override
    public DecoderLM inner() {
        return lm;
    }

    @Override
    public Session newSession(int maxTokens) {
        DecoderLM.Session s = (DecoderLM.Session) lm.newSession(maxTokens);
        return new ForwardingSession() {
            @Override
            public Session inner() {
                return s;
            }

            @Override
            public float[] append(int[] tokens, int off, int len) {
                float[] out = null;
                for (int done = 0; done < len; done += CHUNK) {   // one chunk per call: see collect
                    out = s.append(tokens, off + done, Math.min(CHUNK, len - done));
                    collect(s.stackSession());
                }
                return out;
            }

            @Override
            public float[] appendAll(int[] tokens, int off, int len) {
                int v = lm.vocabSize();
                float[] out = new float[Math.multiplyExact(len, v)];
                for (int done = 0; done < len; done += CHUNK) {
                    int t = Math.min(CHUNK, len - done);
                    System.arraycopy(s.appendAll(tokens, off + done, t), 0, out, done * v, t * v);
                    collect(s.stackSession());
                }
                return out;
            }
        };
    }

    // Each stack call overwrites a layer's statistics, so calls are made (above) one prefill chunk at a time and
    // collected after each.
    private void collect(StackSession s) {
        for (int l = 0; l < totals.length; l++) {
            RouterStats call = stats(s.block(l).ffn());
            if (call != null) {
                if (totals[l] == null) {
                    totals[l] = RouterStats.total(call.tokensPerExpert().length);
                }
                totals[l].add(call);
            }
        }
    }

    private static RouterStats stats(FeedForward.Scratch scratch) {
        if (scratch instanceof MoeFeedForward.State st) {
            return st.stats();
        }
        if (scratch instanceof RoutedMoe.State st) {
            return st.stats();
        }
        return null;
    }

    // One line per MoE layer: tokens, load per expert (token slots c_e), mean entropy, Switch load-balancing loss,
    // HF auxiliary loss, z-loss, MaxVio.
    void print(PrintWriter err) {
        boolean any = false;
        for (int l = 0; l < totals.length; l++) {
            RouterStats t = totals[l];
            if (t == null) {
                continue;
            }
            any = true;
            String z = Double.isNaN(t.zLoss()) ? "n/a" : String.format("%.4f", t.zLoss());   // n/a: no router logits
            err.printf("router layer %d: tokens %d, load %s, entropy %.4f, lb-loss %.4f, hf-aux %.4f, z-loss %s,"
                    + " maxvio %.4f%n", l, t.tokens(), java.util.Arrays.toString(t.tokensPerExpert()),
                    t.meanEntropy(), t.loadBalancingLoss(), t.hfAuxLoss(), z, t.maxViolation());
        }
        if (!any) {
            err.println("router stats: this model has no MoE layers");
        }
    }
}
