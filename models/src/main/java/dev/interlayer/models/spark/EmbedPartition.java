package dev.interlayer.models.spark;

import dev.interlayer.models.embed.EmbeddingModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The per-partition work of {@link SparkEmbeddings}: reads up to {@code batchRows} rows at a time, embeds
 * their texts in one {@link EmbeddingModel#embed(List)} call (the encoder's batched path) and yields each
 * row with its embedding appended ({@code float[dimension]}, or null for a null text). Rows are pulled
 * lazily, so a partition's memory is one batch, not the partition.
 *
 * @param modelKey  the {@link ExecutorModels} key
 * @param textIndex the text column's index in the input rows
 * @param batchRows rows per embed call (≥ 1)
 */
record EmbedPartition(String modelKey, int textIndex, int batchRows) implements MapPartitionsFunction<Row, Row> {

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        EmbeddingModel model = ExecutorModels.get(modelKey);
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && rows.hasNext()) {
                    embedNextBatch(model, rows, ready);
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    private void embedNextBatch(EmbeddingModel model, Iterator<Row> rows, ArrayDeque<Row> out) {
        List<Row> batch = new ArrayList<>(batchRows);
        List<String> texts = new ArrayList<>(batchRows);
        while (batch.size() < batchRows && rows.hasNext()) {
            Row r = rows.next();
            batch.add(r);
            if (!r.isNullAt(textIndex)) {
                texts.add(r.getString(textIndex));
            }
        }
        List<float[]> vectors = texts.isEmpty() ? List.of() : model.embed(texts);
        int next = 0;
        for (Row r : batch) {
            Object[] values = new Object[r.length() + 1];
            for (int i = 0; i < r.length(); i++) {
                values[i] = r.get(i);
            }
            values[r.length()] = r.isNullAt(textIndex) ? null : vectors.get(next++);
            out.add(RowFactory.create(values));
        }
    }
}
