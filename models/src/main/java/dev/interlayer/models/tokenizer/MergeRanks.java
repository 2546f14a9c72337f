package dev.interlayer.models.tokenizer;

import java.util.List;

/**
 * BPE merge table over vocabulary ids: {@code rank(left, right)} is the position of the merge
 * {@code left + right} in the file's merge list (lower merges first), or -1 if the pair is not listed.
 * Built once; every merge's two parts and its result must be vocabulary tokens (as Hugging Face requires).
 */
final class MergeRanks {
    private final LongIntTable ranks;   // (left id * vocabSize + right id) -> rank
    private final int vocabSize;

    /**
     * @param merges {left, right} text pairs in rank order
     * @throws IllegalArgumentException naming the merge whose part or result is not in the vocabulary
     */
    MergeRanks(Vocabulary vocab, List<String[]> merges) {
        this.vocabSize = vocab.size();
        this.ranks = new LongIntTable(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            int l = vocab.id(m[0]);
            int r = vocab.id(m[1]);
            if (l < 0 || r < 0 || vocab.id(m[0] + m[1]) < 0) {
                throw new IllegalArgumentException("merge #" + i + " ('" + m[0] + "', '" + m[1]
                        + "'): its parts and their concatenation must all be vocabulary tokens");
            }
            ranks.put(key(l, r), i);   // a repeated pair keeps its last rank, as HF's map building does
        }
    }

    /** Rank of merging token {@code left} with token {@code right}, or -1 if they do not merge. */
    int rank(int left, int right) {
        return ranks.get(key(left, right));
    }

    int size() {
        return ranks.size();
    }

    private long key(int left, int right) {
        return (long) left * vocabSize + right;
    }
}
