package dev.segsa.features;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The deepest latent feature map of one frame, float32, channel-major [d, h0, w0], viewed in
 * place: the segment may be a LibTorch tensor's memory (no copy) or a heap array in tests.
 * The segment does not keep its owner alive; the caller keeps the tensor open while this is used.
 */
public record FeatureMap(MemorySegment data, int d, int h0, int w0) {
    public FeatureMap {
        if (d <= 0 || h0 <= 0 || w0 <= 0) {
            throw new IllegalArgumentException("feature map shape must be positive: [" + d + "," + h0 + "," + w0 + "]");
        }
        long need = (long) d * h0 * w0 * Float.BYTES;
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("feature segment holds " + data.byteSize() + " bytes, shape needs " + need);
        }
    }

    public static FeatureMap ofArray(float[] values, int d, int h0, int w0) {
        return new FeatureMap(MemorySegment.ofArray(values), d, h0, w0);
    }

    public float get(int channel, int y, int x) {
        return data.getAtIndex(ValueLayout.JAVA_FLOAT, ((long) channel * h0 + y) * w0 + x);
    }

    /** The activation trace of output pixel (y, x): the feature map upsampled at that pixel, in float64. */
    public void activationTrace(AxisInterpolation rows, AxisInterpolation cols, int y, int x, double[] out) {
        int y0 = rows.lo[y], y1 = rows.hi[y];
        int x0 = cols.lo[x], x1 = cols.hi[x];
        double wy0 = rows.weightLo[y], wy1 = rows.weightHi[y];
        double wx0 = cols.weightLo[x], wx1 = cols.weightHi[x];
        long plane = (long) h0 * w0;
        long i00 = (long) y0 * w0 + x0, i01 = (long) y0 * w0 + x1, i10 = (long) y1 * w0 + x0, i11 = (long) y1 * w0 + x1;
        for (int c = 0; c < d; c++) {
            long base = c * plane;
            double f00 = data.getAtIndex(ValueLayout.JAVA_FLOAT, base + i00);
            double f01 = data.getAtIndex(ValueLayout.JAVA_FLOAT, base + i01);
            double f10 = data.getAtIndex(ValueLayout.JAVA_FLOAT, base + i10);
            double f11 = data.getAtIndex(ValueLayout.JAVA_FLOAT, base + i11);
            out[c] = wy0 * (wx0 * f00 + wx1 * f01) + wy1 * (wx0 * f10 + wx1 * f11);
        }
    }

    /** Number of NaN or infinite values in the map. */
    public long countNonFinite() {
        long n = (long) d * h0 * w0, bad = 0;
        for (long i = 0; i < n; i++) {
            float v = data.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) bad++;
        }
        return bad;
    }
}
