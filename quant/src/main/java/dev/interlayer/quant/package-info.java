/** Interlayer quant module. */
package dev.interlayer.quant;
