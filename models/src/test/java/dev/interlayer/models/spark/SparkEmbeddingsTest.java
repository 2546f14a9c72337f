package dev.interlayer.models.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.embed.EmbeddingModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SparkEmbeddings} in Spark local mode with two cores ({@code local[2]}: two task threads, the
 * work two single-core executors would do), on the synthetic BERT GGUF. Reference: the same model's direct
 * {@link EmbeddingModel#embed(List)} on the same texts.
 */
class SparkEmbeddingsTest {
    /**
     * Per component, on unit vectors. The Spark path embeds each partition's texts in batches of 8, the
     * direct call all texts in one list: the packed encoder batches differ in composition and length, which
     * may change GEMM blocking and so the float32 summation order (≈1e-7 relative per dot product over a few
     * layers); 1e-5 leaves two orders of margin and still catches any wrong row, pooling or order.
     */
    static final float TOLERANCE = 1e-5f;

    static SparkSession spark;
    static String modelKey;
    static StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true);

    @BeforeAll
    static void start() {
        modelKey = SharedModels.require("synthetic/synth-bert-f32.gguf").toString();
        spark = SparkSession.builder().master("local[2]").appName("SparkEmbeddingsTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    static List<String> texts() {
        List<String> t = new ArrayList<>();
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "stock", "markets", "fell", "sharply", "today"};
        for (int i = 0; i < 37; i++) {    // 37 rows in 4 partitions: batches of 8 and a partial one
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w <= i % 9; w++) {
                sb.append(words[(i * 7 + w * 3) % words.length]).append(' ');
            }
            t.add(sb.toString().trim());
        }
        return t;
    }

    static Dataset<Row> frame(List<String> texts) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i)));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return spark.createDataFrame(jsc.parallelize(rows, 4), schema);
    }

    @Test
    void embeddingsEqualDirectEmbedAndTheModelLoadsOncePerJvm() throws IOException {
        List<String> texts = texts();
        List<String> withNull = new ArrayList<>(texts);
        withNull.set(5, null);
        Dataset<Row> out = SparkEmbeddings.withEmbeddings(frame(withNull), "text", "embedding", modelKey, 8);
        assertEquals("array<float>", out.schema().apply("embedding").dataType().simpleString());
        List<Row> rows = out.collectAsList();
        assertEquals(texts.size(), rows.size());

        try (EmbeddingModel direct = EmbeddingModel.open(java.nio.file.Path.of(modelKey))) {
            List<float[]> expected = direct.embed(texts);
            for (Row r : rows) {
                int id = r.getInt(0);
                assertEquals(withNull.get(id), r.getString(1));
                if (id == 5) {
                    assertNull(r.get(2), "a null text has a null embedding");
                    continue;
                }
                List<Float> got = r.getList(2);
                float[] want = expected.get(id);
                assertEquals(want.length, got.size());
                for (int c = 0; c < want.length; c++) {
                    assertEquals(want[c], got.get(c), TOLERANCE, "row " + id + " component " + c);
                }
            }
        }
        // a second job (another action, other tasks) reuses the executor's model
        assertEquals(texts.size(), SparkEmbeddings.withEmbeddings(frame(texts), "text", "e", modelKey, 8).count());
        assertEquals(1, ExecutorModels.loads(modelKey), "model loads in this JVM");
    }

    @Test
    void badColumnsAreNamed() {
        Dataset<Row> df = frame(List.of("a"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkEmbeddings.withEmbeddings(df, "body", "e", modelKey));
        assertTrue(e.getMessage().contains("'body'") && e.getMessage().contains("text"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparkEmbeddings.withEmbeddings(df, "id", "e", modelKey));
        assertTrue(e.getMessage().contains("'id' is int"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SparkEmbeddings.withEmbeddings(df, "text", "id", modelKey));
        assertTrue(e.getMessage().contains("'id' already exists"), e.getMessage());
        assertNotNull(df);
    }
}
