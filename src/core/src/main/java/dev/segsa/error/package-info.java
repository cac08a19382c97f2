/**
 * {@link dev.segsa.error.SegsaException}, the one exception type segsa throws for bad input, files and native failures, with its {@link dev.segsa.error.SegsaException.Kind}.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.error;
