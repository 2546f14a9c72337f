package dev.interlayer.models.io;

import dev.interlayer.tensor.Shape;

/**
 * One entry of a GGUF file's tensor table, validated.
 *
 * @param name       tensor name (unique, valid UTF-8)
 * @param type       stored ggml type
 * @param shape      dimensions outermost-first (the reverse of GGUF's innermost-first {@code ne[]}),
 *                   so a GGUF {@code [n_embd, n_vocab]} matrix has shape {@code [n_vocab, n_embd]}
 * @param fileOffset absolute byte offset of the data in the file
 * @param byteSize   bytes of data
 * @param infoOffset byte offset of this entry in the tensor table (for error messages)
 */
public record GgufTensorInfo(String name, GgufType type, Shape shape, long fileOffset, long byteSize,
                             long infoOffset) {

    /** Number of elements. */
    public long elements() {
        return shape.size();
    }
}
