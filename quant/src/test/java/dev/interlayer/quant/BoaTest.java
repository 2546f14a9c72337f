package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * BoA against reference/quant-ptq/gen_boa.py, which computes it the other way round: GPTQ on each head's
 * row-major flattened block with the Kronecker Hessian kron(H_row, H_col) (PyTorch float64). Codes, zeros and
 * float32 scales identical. Invariants: H_row = I gives per-row GPTQ; scaling H_row or H_col by a power of two
 * changes nothing; on the attention-aware objective tr(H_row·ΔW·H_col·ΔWᵀ) BoA beats GPTQ in most cases.
 */
class BoaTest {
    @Test
    void matchesKroneckerGptqReference() {
        Golden.forEachCase("boa.json", 3, c -> {
            int heads = c.get("heads").getAsInt(), hd = c.get("headDim").getAsInt(), cols = c.get("cols").getAsInt();
            double[][] hRow = Golden.doubleRows(c, "hRow");
            QuantizedLinear q = Boa.quantize(Golden.floats(c, "w"), heads, hd, cols, Golden.hessian(c), hRow,
                    Golden.scheme(c), 0.01);
            Golden.assertSame(c, q);
        });
    }

    @Test
    void identityRowHessianIsGptqAndScalingChangesNothing() {
        for (int t = 0; t < 8; t++) {
            var r = new SplittableRandom(8000 + t);
            int heads = 1 + r.nextInt(3), hd = 1 + r.nextInt(5), cols = 4 + r.nextInt(30), rows = heads * hd;
            float[] x = Rand.activations(r, cols + 10, cols);
            double[] hCol = Rand.hessian(x, cols + 10, cols);
            float[] w = Rand.weights(r, rows, cols);
            QuantScheme s = QuantScheme.of(r.nextBoolean() ? GridKind.ASYM_ZERO : GridKind.SYM, 2 + r.nextInt(4), 0);
            double[][] eye = new double[heads][hd * hd];
            double[][] hRow = new double[heads][];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd; i++) {
                    eye[h][i * hd + i] = 1;
                }
                float[] k = Rand.activations(r, hd + 5, hd);
                hRow[h] = Rand.hessian(k, hd + 5, hd);
            }
            QuantizedLinear gptq = Gptq.quantize(w, rows, cols, hCol, s, GptqOptions.DEFAULT).weights();
            assertEquals(gptq, Boa.quantize(w, heads, hd, cols, hCol, eye, s, 0.01), "try " + t + ": H_row = I");
            QuantizedLinear base = Boa.quantize(w, heads, hd, cols, hCol, hRow, s, 0.01);
            double[][] hRow4 = new double[heads][];
            for (int h = 0; h < heads; h++) {
                hRow4[h] = hRow[h].clone();
                for (int i = 0; i < hRow4[h].length; i++) {
                    hRow4[h][i] *= 4;
                }
            }
            double[] hCol8 = hCol.clone();
            for (int i = 0; i < hCol8.length; i++) {
                hCol8[i] /= 8;
            }
            assertEquals(base, Boa.quantize(w, heads, hd, cols, hCol8, hRow4, s, 0.01), "try " + t + ": scaled Hessians");
        }
    }

    /** Statistical (QUANTIZATION.md §4.4.3): at least 8 of 10 seeds. */
    @Test
    void beatsGptqOnAttentionObjective() {
        Wins.atLeast(8, 10, 9000, "BoA/GPTQ objectives", (t, r) -> {
            int hd = 8, cols = 32;
            float[] x = Rand.activations(r, 2 * cols, cols);
            double[] hCol = Rand.hessian(x, 2 * cols, cols);
            float[] k = Rand.activations(r, 3 * hd, hd);
            double[][] hRow = {Rand.hessian(k, 3 * hd, hd)};
            float[] w = Rand.weights(r, hd, cols);
            QuantScheme s = QuantScheme.of(GridKind.ASYM_ZERO, 3, 0);
            double boa = objective(w, Boa.quantize(w, 1, hd, cols, hCol, hRow, s, 0.01), hRow[0], hCol);
            double gptq = objective(w, Gptq.quantize(w, hd, cols, hCol, s, GptqOptions.DEFAULT).weights(), hRow[0], hCol);
            return new Wins.Errors(boa, gptq);
        });
    }

    // tr(H_row·ΔW·H_col·ΔWᵀ) for one head.
    static double objective(float[] w, QuantizedLinear q, double[] hRow, double[] hCol) {
        int rows = q.rows(), cols = q.cols();
        double[] d = new double[rows * cols], dh = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                d[r * cols + c] = w[r * cols + c] - q.value(r, c);
            }
        }
        for (int r = 0; r < rows; r++) {                       // dh = ΔW·H_col
            for (int c = 0; c < cols; c++) {
                double s = 0;
                for (int j = 0; j < cols; j++) {
                    s += d[r * cols + j] * hCol[j * cols + c];
                }
                dh[r * cols + c] = s;
            }
        }
        double total = 0;                                      // Σ_{a,b} H_row[a,b]·<dh[b], d[a]>
        for (int a = 0; a < rows; a++) {
            for (int b = 0; b < rows; b++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    s += dh[b * cols + c] * d[a * cols + c];
                }
                total += hRow[a * rows + b] * s;
            }
        }
        return total;
    }
}
