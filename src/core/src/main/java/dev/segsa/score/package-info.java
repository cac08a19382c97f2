/**
 * What scoring returns: {@link dev.segsa.score.FrameResult} (per-class MDSA/LSA, the class-aware score, risk, maps) and stage latencies.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.score;
