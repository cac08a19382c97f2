/**
 * Frames in: image files, packed pixel buffers ({@link dev.segsa.features.PixelFormat}) and label masks, normalised to the model's input.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.features;
