package dev.interlayer.models.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import dev.interlayer.models.embed.EmbeddingModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link InterlayerEmbeddingModel} through LangChain4j's own API, on the default all-MiniLM-L6-v2 (its
 * embeddings are checked against ONNX Runtime in OnnxRuntimeEquivalenceTest): vectors equal our embed(),
 * and an in-memory embedding store ingests documents and retrieves each one for a paraphrase of it.
 */
class InterlayerEmbeddingModelTest {
    static final List<String> DOCS = List.of(
            "A cat sits on the mat by the window.",
            "Stock markets fell sharply after the interest rate decision.",
            "The recipe needs two eggs, flour and a cup of milk.",
            "The football team won the championship final on penalties.",
            "Heavy rain and strong winds are expected over the weekend.");
    // one paraphrase per document, sharing few content words with it
    static final List<String> QUERIES = List.of(
            "Where is the kitten resting?",
            "How did share prices react to the central bank?",
            "What ingredients do I need to bake this?",
            "Who won the soccer cup?",
            "What will the weather be like on Saturday?");

    /** Per component on unit vectors, between two runs of the same computation (see the first test). */
    static final float TOLERANCE = 1e-6f;

    static EmbeddingModel model;
    static InterlayerEmbeddingModel lc;

    @BeforeAll
    static void load() throws IOException {
        model = EmbeddingModel.defaultModel();
        lc = new InterlayerEmbeddingModel(model, "all-minilm-l6-v2");
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void embedAllIsTheLibrarysEmbedWithTokenUsage() {
        List<TextSegment> segments = DOCS.stream().map(TextSegment::from).toList();
        Response<List<Embedding>> r = lc.embedAll(segments);
        List<float[]> direct = model.embed(DOCS);
        int tokens = 0;
        for (int i = 0; i < DOCS.size(); i++) {
            // the same tokenIds + embedTokenIds calls as embed(texts), but two runs are not bit-identical (the
            // compute pool's split of the work can change float32 summation order): 1e-6 on unit vectors ≈ a few ulps
            assertArrayEquals(direct.get(i), r.content().get(i).vector(), TOLERANCE, "segment " + i);
            tokens += model.tokenIds(DOCS.get(i)).length;
        }
        assertEquals(tokens, r.tokenUsage().inputTokenCount());
        assertEquals(model.dimension(), lc.dimension());
        assertEquals(384, lc.dimension());
        assertEquals("all-minilm-l6-v2", lc.modelName());
        assertArrayEquals(direct.get(0), lc.embed(DOCS.get(0)).content().vector(), TOLERANCE, "single embed");
    }

    @Test
    void inMemoryStoreRetrievalRoundTrip() {
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        List<Document> documents = new ArrayList<>();
        for (String d : DOCS) {
            documents.add(Document.from(d));
        }
        EmbeddingStoreIngestor.builder().embeddingModel(lc).embeddingStore(store).build().ingest(documents);

        for (int q = 0; q < QUERIES.size(); q++) {
            Embedding query = lc.embed(QUERIES.get(q)).content();
            List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(query).maxResults(DOCS.size()).build()).matches();
            assertEquals(DOCS.size(), matches.size());
            assertEquals(DOCS.get(q), matches.get(0).embedded().text(), "best match for: " + QUERIES.get(q));
            // the store's ranking and scores equal a brute-force cosine over our own vectors: score = (cos + 1) / 2
            for (EmbeddingMatch<TextSegment> m : matches) {
                float[] doc = model.embed(m.embedded().text());
                double cos = EmbeddingModel.cosine(query.vector(), doc);
                assertEquals((cos + 1) / 2, m.score(), 1e-6, "score of '" + m.embedded().text() + "'");
            }
            for (int i = 1; i < matches.size(); i++) {
                assertEquals(true, matches.get(i - 1).score() >= matches.get(i).score(), "ranked by score");
            }
        }

        // and through the RAG retriever a LangChain4j AI service would use
        EmbeddingStoreContentRetriever retriever = EmbeddingStoreContentRetriever.builder()
                .embeddingStore(store).embeddingModel(lc).maxResults(1).build();
        List<Content> found = retriever.retrieve(Query.from(QUERIES.get(3)));
        assertEquals(1, found.size());
        assertEquals(DOCS.get(3), found.get(0).textSegment().text());
    }
}
