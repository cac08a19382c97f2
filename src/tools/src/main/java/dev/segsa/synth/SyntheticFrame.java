package dev.segsa.synth;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * One generated frame: the RGB camera image, its label mask (one class id per pixel, row
 * major), what was drawn where, and how it was made.
 *
 * @param sequenceSeed the seed of the frame's sequence; with the conditions and the index it reproduces the frame
 * @param cameraZ      metres the camera has travelled since the first frame of the sequence
 */
public record SyntheticFrame(BufferedImage image, byte[] labels, List<DrawnObject> objects, SceneConditions conditions,
                             long sequenceSeed, int index, double cameraZ) {
    public int width() {
        return image.getWidth();
    }

    public int height() {
        return image.getHeight();
    }

    /** Class id of pixel (x, y). */
    public int label(int x, int y) {
        return labels[y * image.getWidth() + x] & 0xFF;
    }

    /** Pixels per class id. */
    public long[] classPixels() {
        long[] counts = new long[RoadClass.COUNT];
        for (byte b : labels) counts[b & 0xFF]++;
        return counts;
    }

    /** The label mask as an 8-bit grayscale image of class ids. */
    public BufferedImage labelImage() {
        BufferedImage g = new BufferedImage(width(), height(), BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setDataElements(0, 0, width(), height(), labels);
        return g;
    }
}
