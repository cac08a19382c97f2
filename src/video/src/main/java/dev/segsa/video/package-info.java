/**
 * Video in and out through FFmpeg (JavaCV): {@link dev.segsa.video.VideoSource} (files, URLs with timeouts, cameras, standard input) and {@link dev.segsa.video.VideoWriter} (H.264 MP4, all or nothing).
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.video;
