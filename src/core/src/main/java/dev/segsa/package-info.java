/**
 * The front door: {@link dev.segsa.Segsa} scores frames (whole-frame and per-class SA, segments, risk) and {@link dev.segsa.SegsaFit} fits SA models from labelled frames; one engine per model, thread-safe, {@code AutoCloseable}.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa;
