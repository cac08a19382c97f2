package dev.segsa.kernel;

import java.util.Arrays;

/**
 * Per-frame output of an SA kernel: for each class, the number of pixels predicted as it and the
 * sum of their SA; optionally the per-pixel SA map [H*W] (row-major; NaN where the predicted class
 * has no model or the pixel is not scored). Reused across frames: {@link #reset} clears it.
 */
public final class FrameScores {
    private final long[] pixels;
    private final double[] sums;
    private float[] map;

    public FrameScores(int classes) {
        this.pixels = new long[classes];
        this.sums = new double[classes];
    }

    public int classes() {
        return pixels.length;
    }

    /** Clears the sums; allocates or keeps a per-pixel map of {@code mapPixels} floats (0: no map). */
    public void reset(int mapPixels) {
        Arrays.fill(pixels, 0);
        Arrays.fill(sums, 0);
        if (mapPixels == 0) map = null;
        else if (map == null || map.length != mapPixels) map = new float[mapPixels];
    }

    public long[] pixels() {
        return pixels;
    }

    public double[] sums() {
        return sums;
    }

    /** The per-pixel map, or null when none was asked for. */
    public float[] map() {
        return map;
    }

    /** Mean SA of the pixels predicted as {@code c}, NaN when there are none. */
    public double mean(int c) {
        return pixels[c] == 0 ? Double.NaN : sums[c] / pixels[c];
    }
}
