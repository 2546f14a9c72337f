package dev.interlayer.models.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * LangChain4j {@link dev.langchain4j.model.embedding.EmbeddingModel} over an Interlayer
 * {@link dev.interlayer.models.embed.EmbeddingModel}: {@code embedAll(segments)} returns exactly what
 * {@code model.embed(texts)} returns (pooled, L2-normalised, one vector per segment, in order; the same
 * batched encoder calls), with {@link TokenUsage} = the tokens the encoder read ([CLS] and [SEP] included,
 * after truncation). Segment metadata is not embedded. Thread-safe; the Interlayer model belongs to the caller.
 *
 * <pre>{@code
 * EmbeddingModel lc = new InterlayerEmbeddingModel(dev.interlayer.models.embed.EmbeddingModel.defaultModel());
 * }</pre>
 *
 * @param model     the Interlayer model (closed by the caller)
 * @param modelName the name reported in responses
 */
public record InterlayerEmbeddingModel(dev.interlayer.models.embed.EmbeddingModel model, String modelName)
        implements dev.langchain4j.model.embedding.EmbeddingModel {
    /** Adapts {@code model}, reported as "interlayer". */
    public InterlayerEmbeddingModel(dev.interlayer.models.embed.EmbeddingModel model) {
        this(model, "interlayer");
    }

    /** Adapts {@code model}, reported under {@code modelName}. */
    public InterlayerEmbeddingModel {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelName, "modelName");
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        List<int[]> ids = new ArrayList<>(segments.size());
        int tokens = 0;
        for (int i = 0; i < segments.size(); i++) {
            TextSegment s = Objects.requireNonNull(segments.get(i), "text segment");
            int[] t = model.tokenIds(s.text());
            ids.add(t);
            tokens += t.length;
        }
        // embed(texts) is tokenIds + embedTokenIds; going through the ids here lets us count the tokens
        List<float[]> vectors = model.embedTokenIds(ids);
        List<Embedding> out = new ArrayList<>(vectors.size());
        for (float[] v : vectors) {
            out.add(Embedding.from(v));
        }
        return Response.from(out, new TokenUsage(tokens));
    }

    @Override
    public int dimension() {
        return model.dimension();
    }
}
