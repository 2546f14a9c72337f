/**
 * Apache Spark integration (provided dependency {@code org.apache.spark:spark-sql_2.13}): batch sentence
 * embeddings of a DataFrame text column with {@code mapPartitions}, one model per executor JVM.
 */
package dev.interlayer.models.spark;
