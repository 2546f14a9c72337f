/** Interlayer nn module. */
package dev.interlayer.nn;
