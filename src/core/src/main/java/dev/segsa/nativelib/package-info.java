/**
 * Loading segsa's native libraries: one loader that lists every path it tried ({@code segsa.native.path} names a folder to load from when the temporary folder is read-only), and native status codes mapped to {@link dev.segsa.error.SegsaException}.
 *
 * <p><b>Internal</b>: not part of segsa's library interface; it may change in any release. Use {@link dev.segsa.Segsa} and the API packages instead.
 */
package dev.segsa.nativelib;
