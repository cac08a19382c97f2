package dev.segsa.train;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Labelled frames held in memory as 8-bit RGB and 8-bit labels (a few hundred frames fit easily),
 * from which training batches are cut: random crops and horizontal flips, normalised to float32.
 */
public final class TrainingSet {
    private final List<Path> files;
    private final byte[][] rgb;      // [frame][y][x][3]
    private final byte[][] labels;   // [frame][y][x]
    private final int[] widths;
    private final int[] heights;

    private TrainingSet(List<Path> files, byte[][] rgb, byte[][] labels, int[] widths, int[] heights) {
        this.files = files;
        this.rgb = rgb;
        this.labels = labels;
        this.widths = widths;
        this.heights = heights;
    }

    /** Loads every frame of {@code images} with its label mask; label ids must be &lt; classes or the ignore label. */
    public static TrainingSet load(Path images, Path labelDir, int classes, int ignoreLabel) {
        List<Path> files = FrameReader.listFrames(images);
        int n = files.size();
        byte[][] rgb = new byte[n][];
        byte[][] lab = new byte[n][];
        int[] w = new int[n], h = new int[n];
        FrameReader reader = new FrameReader(new double[] {0, 0, 0}, new double[] {1, 1, 1}, null);
        for (int i = 0; i < n; i++) {
            Path f = files.get(i);
            BufferedImage img;
            try {
                img = ImageIO.read(f.toFile());
            } catch (IOException | RuntimeException e) {
                throw new SegsaException(f + ": cannot decode image: " + e.getMessage(), e);
            }
            if (img == null) throw new SegsaException(f + ": cannot decode image: not a PNG, JPEG or BMP image");
            w[i] = img.getWidth();
            h[i] = img.getHeight();
            int[] argb = img.getRGB(0, 0, w[i], h[i], null, 0, w[i]);
            rgb[i] = new byte[3 * argb.length];
            for (int p = 0; p < argb.length; p++) {
                rgb[i][3 * p] = (byte) (argb[p] >> 16);
                rgb[i][3 * p + 1] = (byte) (argb[p] >> 8);
                rgb[i][3 * p + 2] = (byte) argb[p];
            }
            Path lf = FrameReader.labelFor(f, labelDir);
            int[] l = reader.readLabels(lf, f, w[i], h[i], w[i], h[i]);
            lab[i] = new byte[l.length];
            for (int p = 0; p < l.length; p++) {
                if (l[p] != ignoreLabel && l[p] >= classes) {
                    throw new SegsaException(lf + ": pixel (" + (p % w[i]) + "," + (p / w[i]) + ") has label " + l[p] + " but training uses "
                            + classes + " classes and ignore label " + ignoreLabel);
                }
                lab[i][p] = (byte) l[p];
            }
        }
        return new TrainingSet(files, rgb, lab, w, h);
    }

    public int size() {
        return files.size();
    }

    public Path file(int i) {
        return files.get(i);
    }

    public int width(int i) {
        return widths[i];
    }

    public int height(int i) {
        return heights[i];
    }

    /** Label id of pixel p of frame i. */
    public int label(int i, int p) {
        return labels[i][p] & 0xff;
    }

    /** Pixel frequency of each class over all frames (ignored pixels excluded). */
    public double[] classFrequencies(int classes) {
        long[] n = new long[classes];
        long total = 0;
        for (byte[] l : labels) {
            for (byte b : l) {
                int c = b & 0xff;
                if (c < classes) { n[c]++; total++; }
            }
        }
        double[] f = new double[classes];
        for (int c = 0; c < classes; c++) f[c] = total == 0 ? 0 : (double) n[c] / total;
        return f;
    }

    /**
     * Writes frame i, normalised, into {@code x} at batch slot {@code slot} ([3, ch, cw] per slot),
     * and its labels into {@code y} ([ch, cw] per slot, ignore label mapped to {@code ignoreOut}),
     * cropped at (x0, y0) and mirrored when {@code flip}.
     */
    public void crop(int i, int x0, int y0, int cw, int ch, boolean flip, double[] mean, double[] std, int ignoreLabel,
                     float[] x, long[] y, int slot) {
        int w = widths[i];
        int plane = cw * ch;
        int xb = slot * 3 * plane, yb = slot * plane;
        float[] scale = new float[3], shift = new float[3];
        for (int c = 0; c < 3; c++) {
            scale[c] = (float) (1.0 / (255.0 * std[c]));
            shift[c] = (float) (mean[c] / std[c]);
        }
        for (int yy = 0; yy < ch; yy++) {
            int sy = y0 + yy;
            for (int xx = 0; xx < cw; xx++) {
                int sx = flip ? x0 + cw - 1 - xx : x0 + xx;
                int p = sy * w + sx;
                int o = yy * cw + xx;
                for (int c = 0; c < 3; c++) x[xb + c * plane + o] = (rgb[i][3 * p + c] & 0xff) * scale[c] - shift[c];
                int l = labels[i][p] & 0xff;
                y[yb + o] = l == ignoreLabel ? -100 : l;
            }
        }
    }

    /** A uniformly random crop origin for frame i. */
    public int[] randomOrigin(int i, int cw, int ch, SplittableRandom r) {
        if (cw > widths[i] || ch > heights[i]) {
            throw new SegsaException(files.get(i) + ": frame " + widths[i] + "x" + heights[i] + " is smaller than the crop " + cw + "x" + ch);
        }
        return new int[] {r.nextInt(widths[i] - cw + 1), r.nextInt(heights[i] - ch + 1)};
    }
}
