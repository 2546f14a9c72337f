package dev.interlayer.models.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back. {@code encode} splits text into ids of the model's vocabulary;
 * {@code decode} renders ids to text. Implementations are immutable and thread-safe; a
 * {@link StreamingDecoder} is per-stream state owned by one thread.
 *
 * <p>Shapes: ids are {@code int[n]}, every id in {@code [0, vocabSize())}.
 */
public interface Tokenizer {

    /**
     * Ids for {@code text} with the model's special tokens added (BOS/EOS or the [CLS] ... [SEP]
     * template, as the file says) and special-token text in the input treated as plain text.
     * Same as {@code encode(text, true, false)}.
     */
    default int[] encode(String text) {
        return encode(text, true, false);
    }

    /**
     * Ids for {@code text}.
     *
     * @param addSpecial   add the model's BOS/EOS or template tokens (as configured by the file)
     * @param parseSpecial match the text of control/special tokens in the input (e.g. {@code "<s>"},
     *                     {@code "[SEP]"}) as those tokens; user-defined added tokens are always matched
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * Ids for {@code text} with special tokens added, truncated to at most {@code maxTokens} ids: the
     * text's own tokens are cut at the right and the template's trailing tokens (e.g. [SEP]) are kept,
     * as Hugging Face truncation does.
     *
     * @throws IllegalArgumentException if {@code maxTokens} cannot hold the template's special tokens
     */
    int[] encode(String text, int maxTokens);

    /** Text for {@code ids}; control/special tokens are rendered as nothing. Same as {@code decode(ids, false)}. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Text for {@code ids}. Byte pieces that do not form valid UTF-8 become U+FFFD.
     *
     * @param renderSpecial render control/special tokens as their text instead of skipping them
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    String decode(int[] ids, boolean renderSpecial);

    /** A new decoder for a stream of ids that emits only complete UTF-8 characters (control tokens skipped). */
    StreamingDecoder streamingDecoder();

    /**
     * A decoder for the ids that follow {@code context} (e.g. a generation's prompt): {@link #streamingDecoder()}
     * {@linkplain StreamingDecoder#prime primed} with it, so the first new token keeps its leading space.
     */
    default StreamingDecoder streamingDecoder(int[] context) {
        StreamingDecoder d = streamingDecoder();
        d.prime(context);
        return d;
    }

    /** Number of tokens; ids are in {@code [0, vocabSize())}. */
    int vocabSize();

    /** Text of token {@code id} as stored in the vocabulary (e.g. {@code "▁the"}, {@code "##ing"}, {@code "Ġthe"}). */
    String tokenText(int id);

    /** Id of the vocabulary entry whose stored text is exactly {@code text}. */
    OptionalInt tokenId(String text);

    /**
     * Id of a named special token: {@code "bos"}, {@code "eos"}, {@code "unk"}, {@code "pad"},
     * {@code "cls"}, {@code "sep"}, {@code "mask"} (those the file defines).
     */
    OptionalInt special(String name);

    /** Begin-of-sequence id ([CLS] for BERT). */
    default OptionalInt bos() {
        return special("bos");
    }

    /** End-of-sequence id ([SEP] for BERT). */
    default OptionalInt eos() {
        return special("eos");
    }

    /** Padding id. */
    default OptionalInt pad() {
        return special("pad");
    }

    /** Unknown-token id. */
    default OptionalInt unk() {
        return special("unk");
    }

    /** True if {@code id} is a control/special token (rendered as nothing by default). */
    boolean isSpecial(int id);

    /** Longest input the model accepts in tokens (tokenizer.json {@code truncation.max_length}, else unlimited). */
    int maxLength();
}
