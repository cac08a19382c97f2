/**
 * Files in and out: atomic outputs, one output transaction per run, the checks every output goes through, strict JSON and bounded small-file reading, progress and stop requests.
 *
 * <p><b>Internal</b>: not part of segsa's library interface; it may change in any release. Use {@link dev.segsa.Segsa} and the API packages instead.
 */
package dev.segsa.io;
