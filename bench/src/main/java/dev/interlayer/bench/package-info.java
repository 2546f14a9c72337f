/** Interlayer bench module. */
package dev.interlayer.bench;
