package dev.segsa.model;

import dev.segsa.features.FeatureMap;

/**
 * What the model produced for one frame: the low-resolution feature map (a view of LibTorch
 * memory, valid while the frame's PointerScope is open), the number of classes and the
 * predicted class of every output pixel (argmax of the upsampled logits).
 */
public record FrameOutput(FeatureMap features, int classes, int height, int width, int[] predicted) {}
