package dev.segsa.model;

import dev.segsa.features.UpsampleMode;

import java.util.ArrayList;
import java.util.List;

/**
 * The resolved settings of one run: command-line flags, over model metadata, over defaults
 * (mean 0, std 1, bilinear, ignore label 255, frames at their own size, class names = ids).
 */
public record ModelSettings(double[] mean, double[] std, UpsampleMode upsample, int ignoreLabel, int[] resize,
                            List<String> classNames) {

    public static final int DEFAULT_IGNORE_LABEL = 255;

    public static ModelSettings resolve(ModelMetadata flags, ModelMetadata metadata) {
        ModelMetadata m = metadata.overlay(flags);
        double[] mean = m.mean() != null ? m.mean() : new double[] {0, 0, 0};
        double[] std = m.std() != null ? m.std() : new double[] {1, 1, 1};
        for (int i = 0; i < 3; i++) {
            if (!(std[i] > 0) || !Double.isFinite(std[i])) {
                throw new IllegalArgumentException("std must be positive and finite, got " + std[i]);
            }
        }
        if (m.resize() != null) {
            int w = m.resize()[0], h = m.resize()[1];
            if (w <= 0 || h <= 0 || w > dev.segsa.features.FrameNormalizer.MAX_SIDE || h > dev.segsa.features.FrameNormalizer.MAX_SIDE
                    || (long) w * h > dev.segsa.features.FrameReader.maxPixels()) {
                throw new IllegalArgumentException("resize " + w + "x" + h + " is outside 1.." + dev.segsa.features.FrameNormalizer.MAX_SIDE
                        + " per side or above the pixel limit " + dev.segsa.features.FrameReader.maxPixels()
                        + " (FrameReader.setMaxPixels; segsa: --max-pixels)");
            }
        }
        return new ModelSettings(mean, std, m.upsample() != null ? m.upsample() : UpsampleMode.BILINEAR,
                m.ignoreLabel() != null ? m.ignoreLabel() : DEFAULT_IGNORE_LABEL, m.resize(), m.classNames());
    }

    /** Class names for {@code classes} classes: the configured names, or the ids as text. */
    public List<String> classNamesFor(int classes) {
        List<String> out = new ArrayList<>(classes);
        for (int c = 0; c < classes; c++) {
            out.add(classNames != null && c < classNames.size() ? classNames.get(c) : Integer.toString(c));
        }
        return out;
    }
}
