package dev.interlayer.models.spark;

import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Batch sentence embeddings on Spark: {@code withEmbeddings(df, "text", "embedding", modelKey)} returns
 * {@code df} plus a column {@code embedding: array<float>} (not null elements; null where the text is null)
 * holding exactly what {@link dev.interlayer.models.embed.EmbeddingModel#embed(java.util.List)} returns for
 * that text (unit length, the model's dimension).
 *
 * <p>Work is done with {@code mapPartitions}: each executor JVM loads the model once
 * ({@link ExecutorModels}, keyed by {@code modelKey}) and every partition streams its rows through it in
 * batches of {@code batchRows}. The job's class path needs {@code interlayer-models} and its Gson (Spark
 * itself is provided), and executors need {@code --add-modules jdk.incubator.vector} for the SIMD kernels
 * ({@code spark.executor.extraJavaOptions}; without it the scalar kernels run, much slower).
 */
public final class SparkEmbeddings {
    /** Rows per embed call by default: a few encoder batches of 32, so the pool keeps every core busy. */
    public static final int DEFAULT_BATCH_ROWS = 128;

    private SparkEmbeddings() {
    }

    /** {@link #withEmbeddings(Dataset, String, String, String, int)} with {@link #DEFAULT_BATCH_ROWS}. */
    public static Dataset<Row> withEmbeddings(Dataset<Row> df, String textColumn, String embeddingColumn,
                                              String modelKey) {
        return withEmbeddings(df, textColumn, embeddingColumn, modelKey, DEFAULT_BATCH_ROWS);
    }

    /**
     * {@code df} with an embedding column appended (lazy: nothing runs until an action).
     *
     * @param textColumn      a string column of {@code df}
     * @param embeddingColumn the new column's name (must not exist yet)
     * @param modelKey        {@link ExecutorModels#DEFAULT_MODEL} or a model path readable on every executor
     * @param batchRows       rows per embed call (≥ 1)
     * @throws IllegalArgumentException naming the column or value at fault
     */
    public static Dataset<Row> withEmbeddings(Dataset<Row> df, String textColumn, String embeddingColumn,
                                              String modelKey, int batchRows) {
        StructType in = df.schema();
        if (!Arrays.asList(in.fieldNames()).contains(textColumn)) {
            throw new IllegalArgumentException("withEmbeddings: text column '" + textColumn + "' not in "
                    + Arrays.toString(in.fieldNames()));
        }
        int index = in.fieldIndex(textColumn);
        if (!in.fields()[index].dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("withEmbeddings: text column '" + textColumn + "' is "
                    + in.fields()[index].dataType().simpleString() + ", not string");
        }
        if (Arrays.asList(in.fieldNames()).contains(embeddingColumn)) {
            throw new IllegalArgumentException("withEmbeddings: column '" + embeddingColumn + "' already exists");
        }
        if (batchRows < 1) {
            throw new IllegalArgumentException("withEmbeddings: batchRows must be >= 1, got " + batchRows);
        }
        StructType out = in.add(embeddingColumn, DataTypes.createArrayType(DataTypes.FloatType, false), true);
        return df.mapPartitions(new EmbedPartition(modelKey, index, batchRows), Encoders.row(out));
    }
}
