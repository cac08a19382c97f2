/**
 * Fitting internals: the per-class accumulators, partial fits that merge (Spark), and the reference sample for LSA.
 *
 * <p><b>Internal</b>: not part of segsa's library interface; it may change in any release. Use {@link dev.segsa.Segsa} and the API packages instead.
 */
package dev.segsa.fit;
