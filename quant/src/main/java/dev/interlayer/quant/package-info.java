/**
 * Post-training quantizers that choose integer weights for linear layers, and the calibration statistics
 * they need.
 *
 * <ul>
 *   <li>Output: {@link dev.interlayer.quant.QuantizedLinear}, a plain grouped integer format (codes, per-group
 *       scales and integer zero points, optional group index) on one of the {@link dev.interlayer.quant.GridKind}
 *       grids; the point where GGML block packing attaches.</li>
 *   <li>Quantizers: {@link dev.interlayer.quant.Rtn} (round to nearest, clip search), {@link
 *       dev.interlayer.quant.Gptq}, {@link dev.interlayer.quant.Awq}, {@link dev.interlayer.quant.Boa},
 *       {@link dev.interlayer.quant.Aespa} (learned rounding), and {@link dev.interlayer.quant.MixedPrecision}
 *       (per-layer format assignment under a quality bound) with {@link dev.interlayer.quant.BitLadder} (a ladder
 *       of formats under a bound on bits per weight or on quality).</li>
 *   <li>Calibration: {@link dev.interlayer.quant.CalibrationSink} is what a forward hook calls with each linear's
 *       input rows; {@link dev.interlayer.quant.CalibrationStats} keeps {@link
 *       dev.interlayer.quant.HessianAccumulator} and {@link dev.interlayer.quant.ActivationStats} per layer;
 *       {@link dev.interlayer.quant.HeadStatistics} holds per-head query/key moments for BoA and aespa;
 *       {@link dev.interlayer.quant.ImatrixWriter} writes llama.cpp's imatrix.dat.</li>
 * </ul>
 * All solvers take plain row-major {@code float[]} weights and {@code double[]} Hessians, so they are testable
 * without a model.
 */
package dev.interlayer.quant;
