/**
 * ROS 2 / Foxglove MCAP logs: a streaming reader (log-time order through the chunk indexes), the camera frames of a topic, and a writer for scores and heatmaps.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.mcap;
