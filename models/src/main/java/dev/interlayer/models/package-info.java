/** Interlayer models module. */
package dev.interlayer.models;
