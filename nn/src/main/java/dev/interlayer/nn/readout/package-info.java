/**
 * Layer readouts: per-step hidden states in the HF {@code hidden_states} convention, the logit lens and tuned
 * lens (with a per-(layer, position) table of top token, probability, KL to the final layer and entropy),
 * attention maps and per-head outputs ({@link dev.interlayer.nn.readout.AttentionProbe}), residual and per-head
 * activation patching, and auto-contrastive decoding.
 *
 * <p>Integration (CLI {@code lens}, {@code patch}): {@code HiddenStates.collect(plannedStack, tokens)} then
 * {@code new LogitLens(stack.finalNorm(), new OutputHead(head, softcap), tunedLensOrNull).table(taps)};
 * {@code ActivationPatching.residual(...)} / {@code heads(...)} with {@code Metric.logitDifference(target, foil)}.
 * A tuned lens file is read by the caller (safetensors lookup) and handed to {@code TunedLens.fromTensors}.
 */
package dev.interlayer.nn.readout;
