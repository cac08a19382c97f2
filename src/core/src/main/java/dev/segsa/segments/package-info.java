/**
 * Connected segments of a frame's prediction and MetaSeg's per-segment features (native, with a Java reference), the input of the risk model.
 *
 * <p><b>Internal</b>: not part of segsa's library interface; it may change in any release. Use {@link dev.segsa.Segsa} and the API packages instead.
 */
package dev.segsa.segments;
