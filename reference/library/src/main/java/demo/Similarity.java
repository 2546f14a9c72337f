package demo;

import dev.interlayer.models.embed.EmbeddingModel;
import java.util.List;

public class Similarity {
    public static void main(String[] args) throws Exception {
        try (EmbeddingModel model = EmbeddingModel.defaultModel()) {    // all-MiniLM-L6-v2
            List<float[]> e = model.embed(List.of("A cat sits on the mat.", "A kitten rests on a rug.",
                    "Stock markets fell sharply."));
            System.out.printf("cat/kitten %.3f, cat/markets %.3f%n",
                    EmbeddingModel.cosine(e.get(0), e.get(1)), EmbeddingModel.cosine(e.get(0), e.get(2)));
        }
    }
}
