package dev.segsa.report;

import dev.segsa.score.FrameResult;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * One frame of the evidence video (the paper's Figure 6), drawn into a reused image: a caption
 * (time, frame, image SA, chosen classes' SA), then a 3 x 2 grid of panels (input | prediction
 * overlay | label-vs-prediction difference, or "no labels" | SA heatmap on a fixed scale with its
 * colour bar | pixels above the SA threshold | class legend), and a strip chart of image SA over
 * the whole recording with the current frame marked. Panels are the frame scaled to
 * {@code panelWidth}. Not thread-safe.
 */
public final class EvidenceFrame {
    static final int CAPTION = 30;
    static final int STRIP = 96;
    static final int[] PALETTE = {0x4682b4, 0xd62728, 0xff7f0e, 0x2ca02c, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22,
            0x17becf, 0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xdbdb8d, 0x9edae5, 0x393b79};

    private final int srcW, srcH, pw, ph, width, height;
    private final double lo, hi, threshold;
    private final List<String> classNames;
    private final List<Integer> captionClasses;
    private final int totalFrames;
    private final double[] history;
    private int historyLength;
    private final BufferedImage out;
    private final BufferedImage overlay, difference, heat, above;

    /**
     * @param srcW, srcH       output size of the scored frames (the maps' size)
     * @param panelWidth       width of each panel (the frame is scaled, aspect kept)
     * @param lo, hi           fixed SA colour scale
     * @param threshold        SA threshold of the "above" panel and the strip chart
     * @param captionClasses   class ids whose class SA the caption shows
     * @param totalFrames      frames of the recording (x axis of the strip chart)
     */
    public EvidenceFrame(int srcW, int srcH, int panelWidth, double lo, double hi, double threshold, List<String> classNames,
                         List<Integer> captionClasses, int totalFrames) {
        this.srcW = srcW;
        this.srcH = srcH;
        this.pw = panelWidth & ~1;
        this.ph = (int) Math.round((double) srcH * pw / srcW) & ~1;
        this.width = 3 * pw;
        this.height = CAPTION + 2 * ph + STRIP;
        this.lo = lo;
        this.hi = hi;
        this.threshold = threshold;
        this.classNames = classNames;
        this.captionClasses = captionClasses;
        this.totalFrames = Math.max(1, totalFrames);
        this.history = new double[this.totalFrames];
        this.out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        this.overlay = new BufferedImage(srcW, srcH, BufferedImage.TYPE_INT_RGB);
        this.difference = new BufferedImage(srcW, srcH, BufferedImage.TYPE_INT_RGB);
        this.heat = new BufferedImage(srcW, srcH, BufferedImage.TYPE_INT_RGB);
        this.above = new BufferedImage(srcW, srcH, BufferedImage.TYPE_INT_RGB);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /**
     * Draws one frame.
     *
     * @param input   the frame at the maps' size (or any size: it is scaled)
     * @param labels  true classes at the maps' size, or null
     * @param map     per-pixel MDSA [srcH * srcW] (NaN where not scored)
     * @param seconds presentation time
     */
    public BufferedImage draw(BufferedImage input, FrameResult r, float[] map, int[] predicted, int[] labels, int ignoreLabel,
                              double seconds, int frameIndex) {
        int n = srcW * srcH;
        double imageSa = r.imageMdsa();
        if (historyLength < history.length) history[historyLength++] = imageSa;
        BufferedImage scaledInput = input.getWidth() == srcW && input.getHeight() == srcH ? input : scale(input);
        for (int i = 0; i < n; i++) {
            int x = i % srcW, y = i / srcW;
            int px = scaledInput.getRGB(x, y) & 0xffffff;
            int cls = PALETTE[Math.floorMod(predicted[i], PALETTE.length)];
            overlay.setRGB(x, y, blend(px, cls, 0.55));
            float v = map[i];
            heat.setRGB(x, y, HeatmapImage.colour((v - lo) / (hi - lo)));
            above.setRGB(x, y, Float.isFinite(v) && v > threshold ? 0xffe000 : blend(px, 0x000000, 0.65));
            if (labels != null) {
                int l = labels[i];
                difference.setRGB(x, y, l == ignoreLabel ? 0x404040 : l == predicted[i] ? blend(px, 0x00a000, 0.5) : 0xff2020);
            }
        }
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(new Color(0x101010));
        g.fillRect(0, 0, width, height);
        panel(g, scaledInput, 0, 0, "input");
        panel(g, overlay, 1, 0, "prediction");
        if (labels != null) panel(g, difference, 2, 0, "label vs prediction (green right, red wrong)");
        else {
            g.setColor(Color.GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            g.drawString("no labels", 2 * pw + pw / 2 - 30, CAPTION + ph / 2);
        }
        panel(g, heat, 0, 1, String.format(Locale.ROOT, "MDSA, scale %.1f .. %.1f", lo, hi));
        colourBar(g, pw - 16, CAPTION + ph + 24, ph - 48);
        panel(g, above, 1, 1, String.format(Locale.ROOT, "MDSA > %.1f", threshold));
        legend(g, r, 2 * pw + 8, CAPTION + ph + 8);
        // caption
        g.setColor(Color.WHITE);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        StringBuilder c = new StringBuilder(String.format(Locale.ROOT, "t %.2f s   frame %d   image MDSA %s", seconds, frameIndex,
                Double.isFinite(imageSa) ? String.format(Locale.ROOT, "%.2f", imageSa) : "-"));
        for (int k : captionClasses) {
            if (k < r.classes()) {
                double v = r.mdsaMean()[k];
                c.append("   ").append(classNames.get(k)).append(' ').append(Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-");
            }
        }
        g.drawString(c.toString(), 8, 21);
        strip(g, CAPTION + 2 * ph);
        g.dispose();
        return out;
    }

    private BufferedImage scaled;

    private BufferedImage scale(BufferedImage in) {
        if (scaled == null) scaled = new BufferedImage(srcW, srcH, BufferedImage.TYPE_INT_RGB);
        BufferedImage s = scaled;
        Graphics2D g = s.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(in, 0, 0, srcW, srcH, null);
        g.dispose();
        return s;
    }

    private void panel(Graphics2D g, BufferedImage img, int col, int row, String title) {
        int x = col * pw, y = CAPTION + row * ph;
        g.drawImage(img, x, y, pw, ph, null);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(new Color(0, 0, 0, 150));
        g.fillRect(x, y, g.getFontMetrics().stringWidth(title) + 8, 16);
        g.setColor(Color.WHITE);
        g.drawString(title, x + 4, y + 12);
    }

    private void colourBar(Graphics2D g, int x, int y, int h) {
        for (int i = 0; i < h; i++) {
            g.setColor(new Color(HeatmapImage.colour(1.0 - (double) i / (h - 1))));
            g.drawLine(x, y + i, x + 10, y + i);
        }
        g.setColor(Color.WHITE);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        g.drawString(String.format(Locale.ROOT, "%.0f", hi), x - 14, y + 8);
        g.drawString(String.format(Locale.ROOT, "%.0f", lo), x - 14, y + h);
    }

    private void legend(Graphics2D g, FrameResult r, int x, int y) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int line = 0;
        // class names in full (never cut to look alike): the numbers start after the widest name shown
        int nameWidth = g.getFontMetrics().stringWidth("class");
        for (int c = 0; c < r.classes(); c++) {
            if (r.predictedPixels()[c] > 0) nameWidth = Math.max(nameWidth, g.getFontMetrics().stringWidth(classNames.get(c)));
        }
        int numbers = x + 14 + nameWidth + 8;
        g.setColor(Color.LIGHT_GRAY);
        g.drawString("class", x, y + 12);
        g.drawString(" pixels   mean MDSA   p95", numbers, y + 12);
        for (int c = 0; c < r.classes() && line < (ph - 28) / 15; c++) {
            if (r.predictedPixels()[c] == 0) continue;
            int yy = y + 28 + 15 * line++;
            g.setColor(new Color(PALETTE[c % PALETTE.length]));
            g.fillRect(x, yy - 10, 10, 10);
            g.setColor(Color.WHITE);
            g.drawString(classNames.get(c), x + 14, yy);
            g.drawString(String.format(Locale.ROOT, "%7d %9s %7s", r.predictedPixels()[c], fmt(r.mdsaMean()[c]), fmt(r.mdsaP95()[c])),
                    numbers, yy);
        }
    }

    private static String fmt(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-";
    }

    private void strip(Graphics2D g, int top) {
        int left = 40, right = width - 10, bottom = top + STRIP - 18, h = bottom - (top + 10);
        g.setColor(new Color(0x202020));
        g.fillRect(0, top, width, STRIP);
        g.setColor(Color.GRAY);
        g.drawRect(left, top + 10, right - left, h);
        double max = hi;
        for (int i = 0; i < historyLength; i++) if (Double.isFinite(history[i])) max = Math.max(max, history[i]);
        int ty = bottom - (int) Math.round(threshold / max * h);
        g.setColor(new Color(0xffe000));
        g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
        g.drawLine(left, ty, right, ty);
        g.setStroke(new BasicStroke(1.5f));
        g.setColor(new Color(0xff8c00));
        int px = -1, py = -1;
        for (int i = 0; i < historyLength; i++) {
            if (!Double.isFinite(history[i])) continue;
            int x = left + (int) Math.round((double) i / Math.max(1, totalFrames - 1) * (right - left));
            int y = bottom - (int) Math.round(history[i] / max * h);
            if (px >= 0) g.drawLine(px, py, x, y);
            px = x;
            py = y;
        }
        int cx = left + (int) Math.round((double) (historyLength - 1) / Math.max(1, totalFrames - 1) * (right - left));
        g.setColor(Color.WHITE);
        g.drawLine(cx, top + 10, cx, bottom);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(String.format(Locale.ROOT, "%.0f", max), 4, top + 20);
        g.drawString("0", 4, bottom);
        g.drawString("image MDSA over the recording (dashed: threshold; white: this frame)", left, top + STRIP - 4);
    }

    private static int blend(int a, int b, double t) {
        int r = (int) (((a >> 16) & 0xff) * (1 - t) + ((b >> 16) & 0xff) * t);
        int gg = (int) (((a >> 8) & 0xff) * (1 - t) + ((b >> 8) & 0xff) * t);
        int bb = (int) ((a & 0xff) * (1 - t) + (b & 0xff) * t);
        return (r << 16) | (gg << 8) | bb;
    }
}
