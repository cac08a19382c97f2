package dev.segsa.stream;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameNormalizer;
import dev.segsa.features.PixelFormat;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The 64-bit difference hash of a frame (dHash: the frame's luminance shrunk to 9 x 8 by box
 * averaging, one bit per horizontally adjacent pair: left brighter than right). Near-duplicate
 * frames (the same scene a moment later) differ in a few bits; the Hamming distance between two
 * hashes is {@code Long.bitCount(a ^ b)}. The {@link StreamSelector}'s diversity gate compares them.
 */
public final class DHash {
    private DHash() {}

    /**
     * The frame's dHash.
     *
     * @param image the frame (any size, at least 1 x 1)
     * @return the 64-bit hash, the first row's first pair in the highest bit
     * @throws NullPointerException when {@code image} is null
     */
    public static long of(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        double[] cell = new double[9 * 8];
        int[] count = new int[9 * 8];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            int cy = (int) ((long) y * 8 / h);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                add(cell, count, cy, (int) ((long) x * 9 / w), (p >> 16) & 255, (p >> 8) & 255, p & 255);
            }
        }
        return hash(cell, count);
    }

    /**
     * The dHash of packed 8-bit pixels read in place (what {@code Segsa.score} takes, e.g. a camera
     * buffer or {@code VideoFrame.pixels()}), with no image made: the same hash as
     * {@link #of(BufferedImage)} of the same pixels.
     *
     * @param pixels    HWC rows, {@code rowStride} bytes apart, in {@code format} (alpha or padding bytes skipped)
     * @param rowStride bytes from one row to the next, at least {@code width} times the format's bytes per pixel
     * @return the 64-bit hash, the first row's first pair in the highest bit
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} when the size is outside 1..16384
     *                        per side or the buffer is shorter than the frame ({@code FrameNormalizer.checkPacked})
     * @throws NullPointerException when {@code pixels} or {@code format} is null
     */
    public static long of(MemorySegment pixels, int width, int height, long rowStride, PixelFormat format) {
        FrameNormalizer.checkPacked(pixels, width, height, rowStride, format, "dHash");
        double[] cell = new double[9 * 8];
        int[] count = new int[9 * 8];
        int bpp = format.bytesPerPixel(), r = format.offset(0), g = format.offset(1), b = format.offset(2);
        for (int y = 0; y < height; y++) {
            int cy = (int) ((long) y * 8 / height);
            long rowAt = y * rowStride;
            for (int x = 0; x < width; x++) {
                long at = rowAt + (long) x * bpp;
                add(cell, count, cy, (int) ((long) x * 9 / width), pixels.get(ValueLayout.JAVA_BYTE, at + r) & 255,
                        pixels.get(ValueLayout.JAVA_BYTE, at + g) & 255, pixels.get(ValueLayout.JAVA_BYTE, at + b) & 255);
            }
        }
        return hash(cell, count);
    }

    /** {@link #of(MemorySegment, int, int, long, PixelFormat)} as the {@link StreamSelector}'s descriptor; throws as it does. */
    public static FrameDescriptor descriptor(MemorySegment pixels, int width, int height, long rowStride, PixelFormat format) {
        return FrameDescriptor.of(of(pixels, width, height, rowStride, format));
    }

    private static void add(double[] cell, int[] count, int cy, int cx, int red, int green, int blue) {
        double lum = 0.299 * red + 0.587 * green + 0.114 * blue;
        cell[cy * 9 + cx] += lum;
        count[cy * 9 + cx]++;
    }

    private static long hash(double[] cell, int[] count) {
        long hash = 0;
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                double a = cell[y * 9 + x] / Math.max(1, count[y * 9 + x]);
                double b = cell[y * 9 + x + 1] / Math.max(1, count[y * 9 + x + 1]);
                hash = (hash << 1) | (a > b ? 1 : 0);
            }
        }
        return hash;
    }

    /**
     * The frame's dHash as the {@link StreamSelector}'s descriptor: {@code FrameDescriptor.of(DHash.of(image))}.
     *
     * @param image the frame (any size, at least 1 x 1)
     * @return a present descriptor of the frame's 64-bit hash
     * @throws NullPointerException when {@code image} is null
     */
    public static FrameDescriptor descriptor(BufferedImage image) {
        return FrameDescriptor.of(of(image));
    }
}
