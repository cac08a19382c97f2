package dev.segsa.report;

import dev.segsa.io.AtomicOutput;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A picture of one frame's per-pixel SA (paper Figure 8): the frame and its SA heatmap side by
 * side, the heatmap in the "inferno" colour map over a fixed value range (so heatmaps of
 * different frames compare), with a labelled colour bar. Pixels without SA (NaN) are grey.
 */
public final class HeatmapImage {
    private static final int BAR = 56;
    // inferno, 9 control points (matplotlib), interpolated linearly
    private static final int[][] INFERNO = {
            {0, 0, 4}, {31, 12, 72}, {85, 15, 109}, {136, 34, 106}, {186, 54, 85},
            {227, 89, 51}, {249, 140, 10}, {249, 201, 50}, {252, 255, 164}};

    private HeatmapImage() {}

    public static int colour(double t) {
        if (!Double.isFinite(t)) return 0x808080;
        t = Math.max(0, Math.min(1, t)) * (INFERNO.length - 1);
        int i = Math.min((int) t, INFERNO.length - 2);
        double f = t - i;
        int r = (int) Math.round(INFERNO[i][0] + f * (INFERNO[i + 1][0] - INFERNO[i][0]));
        int g = (int) Math.round(INFERNO[i][1] + f * (INFERNO[i + 1][1] - INFERNO[i][1]));
        int b = (int) Math.round(INFERNO[i][2] + f * (INFERNO[i + 1][2] - INFERNO[i][2]));
        return (r << 16) | (g << 8) | b;
    }

    /**
     * @param frame the input frame (drawn scaled to the map size if it differs)
     * @param sa    per-pixel SA, row-major [height * width]
     * @param lo    value drawn darkest
     * @param hi    value drawn brightest
     * @param title caption drawn above, e.g. "f012.png  road MDSA 4.21"
     */
    public static BufferedImage render(BufferedImage frame, float[] sa, int width, int height, double lo, double hi, String title) {
        return render(frame, sa, null, null, width, height, lo, hi, title);
    }

    /**
     * The frame with its SA blended over it (55% heatmap) beside the predicted classes (one colour
     * per class, the legend naming those present), and the colour bar labelled with the score.
     *
     * @param predicted predicted class per pixel at the map's size (null: the plain frame | heatmap layout)
     * @param classNames names of the classes, for the legend
     */
    public static BufferedImage render(BufferedImage frame, float[] sa, int[] predicted, java.util.List<String> classNames, int width,
                                       int height, double lo, double hi, String title) {
        if (predicted == null) return renderPlain(frame, sa, width, height, lo, hi, title);
        int top = 22, legend = 32;
        BufferedImage out = new BufferedImage(2 * width + BAR + 40, height + top + legend, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.drawImage(frame, 0, top, width, height, null);
        double span = hi > lo ? hi - lo : 1;
        boolean[] present = new boolean[EvidenceFrame.PALETTE.length * 64];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                int base = out.getRGB(x, top + y), heat = colour((sa[i] - lo) / span);
                out.setRGB(x, top + y, blend(base, heat, 0.55));
                int c = predicted[i];
                out.setRGB(width + x, top + y, EvidenceFrame.PALETTE[Math.floorMod(c, EvidenceFrame.PALETTE.length)]);
                if (c >= 0 && c < present.length) present[c] = true;
            }
        }
        colourBar(g, out, 2 * width + 8, top, height, lo, hi, true);
        // the legend: the predicted classes present, in their colours, names in full
        int lx = width, ly = top + height + 13;
        for (int c = 0; c < present.length && classNames != null; c++) {
            if (!present[c] || c >= classNames.size()) continue;
            int need = 18 + g.getFontMetrics().stringWidth(classNames.get(c));
            if (lx + need > out.getWidth()) { // wrap: names are never cut
                lx = 4;
                ly += 14;
            }
            g.setColor(new Color(EvidenceFrame.PALETTE[c % EvidenceFrame.PALETTE.length]));
            g.fillRect(lx, ly - 9, 9, 9);
            g.setColor(Color.BLACK);
            g.drawString(classNames.get(c), lx + 12, ly);
            lx += need;
        }
        g.drawString("frame with MDSA", 4, top + height + 13);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, 4, 16);
        g.dispose();
        return out;
    }

    /** The colour bar at x = bx, from lo (bottom) to hi (top), labelled with the score when {@code named}; leaves the font at 11 pt. */
    private static void colourBar(Graphics2D g, BufferedImage out, int bx, int top, int height, double lo, double hi, boolean named) {
        int bw = 12;
        for (int y = 0; y < height; y++) {
            int c = colour(1.0 - (double) y / Math.max(1, height - 1));
            for (int x = 0; x < bw; x++) out.setRGB(bx + x, top + y, c);
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(bx, top, bw - 1, height - 1);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(format(hi), bx + bw + 3, top + 10);
        g.drawString(format(lo), bx + bw + 3, top + height - 2);
        if (named) {
            g.drawString("MDSA", bx + bw + 3, top + height / 2 - 6);
            g.drawString("(std. dev.)", bx + bw + 3, top + height / 2 + 7);
        }
    }

    private static int blend(int a, int b, double t) {
        int r = (int) Math.round(((a >> 16) & 0xff) * (1 - t) + ((b >> 16) & 0xff) * t);
        int gr = (int) Math.round(((a >> 8) & 0xff) * (1 - t) + ((b >> 8) & 0xff) * t);
        int bl = (int) Math.round((a & 0xff) * (1 - t) + (b & 0xff) * t);
        return (r << 16) | (gr << 8) | bl;
    }

    private static BufferedImage renderPlain(BufferedImage frame, float[] sa, int width, int height, double lo, double hi, String title) {
        int top = 22;
        BufferedImage out = new BufferedImage(2 * width + BAR, height + top, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.drawImage(frame, 0, top, width, height, null);
        double span = hi > lo ? hi - lo : 1;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) out.setRGB(width + x, top + y, colour((sa[y * width + x] - lo) / span));
        }
        colourBar(g, out, 2 * width + 8, top, height, lo, hi, false);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, 4, 16);
        g.dispose();
        return out;
    }

    public static void write(BufferedImage image, Path file) {
        AtomicOutput.write(file, out -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer");
        });
    }

    private static String format(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
