package dev.interlayer.models.serve;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.GenerationRun;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.nn.BatchDecoder;
import dev.interlayer.nn.StackSession;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * Continuous batching's decode step: the active slots' next tokens go through one {@link BatchDecoder} pass, so
 * every weight matrix is read once per step for up to {@code maxBatch} sequences (decode is bandwidth-bound, so
 * this is where the aggregate tokens/s comes from), each sequence attending to its own KV cache at its own position.
 *
 * <p>For F32/F16/BF16 weights each sequence's logits are bit-identical to decoding it alone (the batched linears
 * keep the single-row summation order), so an answer does not depend on which other requests share its step.
 * Allocates nothing per step: the token, session and logits buffers are sized once for {@code maxBatch}.
 */
public final class BatchedDecodeStep implements DecodeStep {
    private final BatchDecoder decoder;
    private final DecoderLM lm;
    private final int vocab;
    private final int[] tokens;
    private final StackSession[] sessions;
    private final float[] logitData;
    private final Tensor[] logits;   // logits[n] = the first n rows: a view made once, not per step
    private final float[][] rows;

    private BatchedDecodeStep(DecoderLM lm, int maxBatch) {
        this.lm = lm;
        this.decoder = lm.stack().newBatchDecoder(maxBatch);
        this.vocab = lm.outputHead().vocab();
        this.tokens = new int[maxBatch];
        this.sessions = new StackSession[maxBatch];
        this.logitData = new float[maxBatch * vocab];
        Tensor all = Tensor.wrap(logitData, Shape.of(maxBatch, vocab));
        this.logits = new Tensor[maxBatch + 1];
        for (int n = 1; n <= maxBatch; n++) {
            logits[n] = n == maxBatch ? all : all.slice(0, 0, n);
        }
        this.rows = new float[maxBatch][vocab];
    }

    /**
     * The batched step for {@code lm} with up to {@code parallel} sequences per pass, or
     * {@link DecodeStep#sequential()} when the model is not a {@link DecoderLM} (nothing to batch through).
     * More than {@link BatchDecoder}'s largest batch runs as several passes per step.
     */
    public static DecodeStep forModel(CausalLM lm, int parallel) {
        if (!(lm instanceof DecoderLM d) || parallel < 2) {
            return DecodeStep.sequential();
        }
        return new BatchedDecodeStep(d, Math.min(parallel, BatchDecoder.MAX_BATCH));
    }

    @Override
    public void step(List<Slot> active) {
        int max = tokens.length;
        for (int from = 0; from < active.size(); from += max) {
            pass(active, from, Math.min(active.size(), from + max));
        }
    }

    private void pass(List<Slot> active, int from, int to) {
        int n = to - from;
        for (int i = 0; i < n; i++) {
            GenerationRun r = active.get(from + i).run();
            tokens[i] = r.nextInput();
            sessions[i] = ((DecoderLM.Session) r.session()).stackSession();
        }
        try {
            decoder.decode(tokens, sessions, n, lm.outputHead(), logits[n]);
        } catch (RuntimeException e) {
            // the decoder refuses a step before changing any session: run these slots one by one, so that only
            // the slot at fault fails, with its own error
            DecodeStep.sequential().step(active.subList(from, to));
            return;
        } finally {
            java.util.Arrays.fill(sessions, null);
        }
        for (int i = 0; i < n; i++) {
            Slot s = active.get(from + i);
            System.arraycopy(logitData, i * vocab, rows[i], 0, vocab);
            try {
                s.run().accept(rows[i]);
            } catch (RuntimeException e) {
                s.fail(e);
            }
        }
    }
}
