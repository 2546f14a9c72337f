package dev.interlayer.models.quantize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Embedding fidelity of a model against a reference on the same texts: per text the cosine
 * cos(e, e_ref) = e·e_ref / (‖e‖·‖e_ref‖), reported as min, median and mean; and retrieval agreement: for
 * every text, its k = min(10, n − 1) nearest other texts by cosine under each model, and the mean overlap
 * |top_k ∩ top_k,ref| / k (1 = the same neighbours, in any order).
 */
public final class EmbeddingEval {
    private EmbeddingEval() {
    }

    /**
     * @param texts      number of texts compared
     * @param minCos     smallest cosine
     * @param medianCos  median cosine (mean of the two middle values for an even count)
     * @param meanCos    mean cosine
     * @param k          neighbours per text in the retrieval check (0 for one text)
     * @param topKOverlap mean top-k overlap in [0, 1] (NaN when k = 0)
     */
    public record Result(int texts, double minCos, double medianCos, double meanCos, int k, double topKOverlap) {
    }

    /**
     * Compares the embeddings of the same texts, in the same order.
     *
     * @throws IllegalArgumentException if the lists are empty or differ in length or width
     */
    public static Result compare(List<float[]> model, List<float[]> reference) {
        int n = model.size();
        if (n == 0 || reference.size() != n) {
            throw new IllegalArgumentException("embedding eval: " + n + " model and " + reference.size()
                    + " reference embeddings; need the same non-zero count");
        }
        double[] cos = new double[n];
        for (int i = 0; i < n; i++) {
            if (model.get(i).length != reference.get(i).length) {
                throw new IllegalArgumentException("embedding eval: text " + i + " has width " + model.get(i).length
                        + " under the model and " + reference.get(i).length + " under the reference");
            }
            cos[i] = cosine(model.get(i), reference.get(i));
        }
        double mean = Arrays.stream(cos).sum() / n;
        double[] sorted = cos.clone();
        Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        int k = Math.min(10, n - 1);
        double overlap = Double.NaN;
        if (k > 0) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                List<Integer> a = topK(model, i, k), b = topK(reference, i, k);
                a.retainAll(b);
                sum += (double) a.size() / k;
            }
            overlap = sum / n;
        }
        return new Result(n, sorted[0], median, mean, k, overlap);
    }

    /** The cosine of two vectors of equal width (0 when one is zero). */
    public static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    // indices of the k texts most similar to text i (itself excluded; ties: lower index first)
    private static List<Integer> topK(List<float[]> e, int i, int k) {
        Integer[] idx = new Integer[e.size() - 1];
        double[] sim = new double[e.size()];
        for (int j = 0, m = 0; j < e.size(); j++) {
            if (j != i) {
                idx[m++] = j;
                sim[j] = cosine(e.get(i), e.get(j));
            }
        }
        Arrays.sort(idx, (x, y) -> sim[x] != sim[y] ? Double.compare(sim[y], sim[x]) : Integer.compare(x, y));
        return new ArrayList<>(Arrays.asList(idx).subList(0, k));
    }
}
