package dev.segsa.synth;

import java.awt.Rectangle;

/**
 * One thing drawn into a synthetic frame, for tests and inspection: its id (stable across the
 * frames of a sequence: {@code vehicle-7}, {@code marker-12}), its kind ({@code vehicle},
 * {@code lane line}, {@code arrow}, {@code building}, ...), the class its pixels were labelled
 * with, the bounding box of those label pixels' shapes (clipped to the frame), its distance
 * ahead of the camera in metres, and its place in the drawing order (later objects cover
 * earlier ones). An object drawn with several classes (a vehicle and its wheels) is listed once
 * per class.
 */
public record DrawnObject(String id, String kind, RoadClass cls, Rectangle bounds, double depth, int order) {}
