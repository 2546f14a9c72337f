/**
 * Sentence embeddings from BERT encoders (tokenize, encode, pool, L2-normalise) and the helper that
 * finds a model shipped on the class path and makes it memory-mappable.
 */
package dev.interlayer.models.embed;
