/**
 * Scoring a video with the engine: {@link dev.segsa.videoscore.SegsaVideo} decodes with
 * {@link dev.segsa.video.VideoSource} and hands each frame to {@link dev.segsa.Segsa} in place.
 * In the {@code segsa-video} artifact, so that {@code segsa-core} carries no FFmpeg.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.videoscore;
