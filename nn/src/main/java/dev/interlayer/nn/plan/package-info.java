/**
 * Execution plans: a model runs a list of layer applications instead of its fixed loop.
 *
 * <ul>
 * <li>{@link dev.interlayer.nn.plan.ExecutionPlan}, {@link dev.interlayer.nn.plan.Step}: skip, repeat, reorder,
 *     parallel-average ("Transformer Layers as Painters"), attention-only / MLP-only drops ("What Matters in
 *     Transformers?"), LayerDrop pruning, early exit; a text form for {@code generate --plan}.</li>
 * <li>{@link dev.interlayer.nn.plan.PlannedStack}, {@link dev.interlayer.nn.plan.PlanSession}: runs a plan over a
 *     {@link dev.interlayer.nn.DecoderStack}'s blocks through their public API, one KV cache per
 *     attention-running step; {@link dev.interlayer.nn.plan.StepHook} lets mechanisms and readouts see or rewrite
 *     the residual stream between steps.</li>
 * <li>{@link dev.interlayer.nn.plan.SelfSpeculativeDecoder}: LayerSkip greedy self-speculative decoding.</li>
 * <li>{@link dev.interlayer.nn.plan.LayerScores}: angular distance, block influence, sublayer importance.</li>
 * <li>{@link dev.interlayer.nn.plan.Recursion}: Relaxed Recursive Transformers, MoEUT grouping, shared FFN.</li>
 * </ul>
 *
 * <p>Integration (models/CLI): a loader that builds a {@code DecoderStack} and its LM head needs only
 * {@code new PlannedStack(stack, ExecutionPlan.parse(text))} for {@code generate --plan}, and
 * {@code new SelfSpeculativeDecoder(new PlannedStack(stack, ExecutionPlan.identity(L)), new OutputHead(head,
 * finalSoftcap), E, n, context, chunk)} for {@code --draft-layers E}.
 */
package dev.interlayer.nn.plan;
