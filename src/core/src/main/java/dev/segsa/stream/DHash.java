package dev.segsa.stream;

import java.awt.image.BufferedImage;

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
                int cx = (int) ((long) x * 9 / w);
                int p = row[x];
                double lum = 0.299 * ((p >> 16) & 255) + 0.587 * ((p >> 8) & 255) + 0.114 * (p & 255);
                cell[cy * 9 + cx] += lum;
                count[cy * 9 + cx]++;
            }
        }
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
