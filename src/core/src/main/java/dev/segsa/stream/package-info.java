/**
 * On the vehicle: {@link dev.segsa.stream.StreamSelector} (decision windows, one paced budget for every trigger and camera), its {@link dev.segsa.stream.SelectorConfig} and {@link dev.segsa.stream.Trigger}s, {@link dev.segsa.stream.ClipBuffer} for pre- and post-roll clips and {@link dev.segsa.stream.DHash} (a frame's {@link dev.segsa.stream.FrameDescriptor}) for the near-duplicate gate.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.stream;
