/**
 * Pieces shared by the decoder families built on the {@code nn} layers: {@link dev.interlayer.models.lm.DecoderLM}
 * (a {@link dev.interlayer.models.generate.CausalLM} over an {@link dev.interlayer.nn.DecoderStack} plus LM
 * head), {@link dev.interlayer.models.lm.HiddenStates} (last hidden state per position) and
 * {@link dev.interlayer.models.lm.Weights} (shape-checked tensor lookup by file name).
 */
package dev.interlayer.models.lm;
