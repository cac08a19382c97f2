/**
 * The SA kernels behind one {@link dev.segsa.kernel.Backend} interface: the float64 Java reference, the native CPU backend (Panama FFM) and, from the cuda module, the CUDA backend.
 *
 * <p><b>Internal</b>: not part of segsa's library interface; it may change in any release. Use {@link dev.segsa.Segsa} and the API packages instead.
 */
package dev.segsa.kernel;
