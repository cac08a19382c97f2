package dev.segsa.synth;

import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.Map;

/**
 * Outlines of the markings painted on the road, in metres on the ground: x to the right, y
 * forward (away from the camera), origin at the near end of the marking's centre line. Road
 * paint is elongated along the road, as real markings are, so it reads at a grazing angle.
 */
final class MarkingShapes {
    private MarkingShapes() {}

    static final String[] ARROWS = {"straight", "left", "right", "straight-left", "straight-right"};
    static final String[] SHAPES = {"diamond", "triangle", "bars"};
    static final String[] WORDS = {"STOP", "SLOW", "BUS", "ONLY", "KEEP", "SLOW", "LANE"};
    static final String[] NUMBERS = {"30", "40", "50", "60", "80", "100", "110"};

    static Shape arrow(String kind) {
        Path2D.Float straight = polygon(-0.15, 0, 0.15, 0, 0.15, 3.4, 0.5, 3.4, 0, 5.0, -0.5, 3.4, -0.15, 3.4);
        Path2D.Float left = polygon(-0.15, 0, 0.15, 0, 0.15, 2.95, -0.45, 2.95, -0.45, 3.35, -1.05, 2.75, -0.45, 2.15,
                -0.45, 2.55, -0.15, 2.55);
        return switch (kind) {
            case "straight" -> straight;
            case "left" -> left;
            case "right" -> mirror(left);
            case "straight-left" -> union(straight, left);
            case "straight-right" -> union(straight, mirror(left));
            default -> throw new IllegalArgumentException("unknown arrow " + kind);
        };
    }

    static Shape shape(String kind) {
        return switch (kind) {
            case "diamond" -> outline(polygon(0, 0, 0.7, 2.5, 0, 5.0, -0.7, 2.5), polygon(0, 0.45, 0.5, 2.5, 0, 4.55, -0.5, 2.5));
            case "triangle" -> outline(polygon(-0.8, 3.6, 0.8, 3.6, 0, 0), polygon(-0.55, 3.35, 0.55, 3.35, 0, 0.6));
            case "bars" -> union(new Rectangle2D.Double(-0.8, 0, 1.6, 0.45), new Rectangle2D.Double(-0.8, 1.0, 1.6, 0.45));
            default -> throw new IllegalArgumentException("unknown road shape " + kind);
        };
    }

    /** An X, 1.6 m wide and 3 m long. */
    static Shape cross() {
        Path2D.Float a = polygon(-0.8, 0, -0.55, 0, 0.8, 3.0, 0.55, 3.0);
        return union(a, mirror(a));
    }

    /** A toll-plaza chevron across a lane of the given width, pointing forward. */
    static Shape tollChevron(double laneWidth) {
        double h = laneWidth / 2 - 0.3;
        return polygon(-h, 0, 0, 1.2, h, 0, h, 0.5, 0, 1.7, -h, 0.5);
    }

    /**
     * Text in a 5 x 7 block font, read by a driver approaching it: the first character is the
     * farthest. Each character is {@code charWidth} wide and {@code charLength} long.
     */
    static Shape text(String text, double charWidth, double charLength) {
        Path2D.Float out = new Path2D.Float(Path2D.WIND_NON_ZERO);
        double cell = charWidth / 5, row = charLength / 7;
        double gap = charLength * 0.3;
        double width = text.length() * charWidth + (text.length() - 1) * charWidth * 0.25;
        boolean stacked = width > 2.6;
        for (int i = 0; i < text.length(); i++) {
            String[] glyph = GLYPHS.get(text.charAt(i));
            if (glyph == null) throw new IllegalArgumentException("no block glyph for '" + text.charAt(i) + "'");
            double x0, y0;
            if (stacked) {
                x0 = -charWidth / 2;
                y0 = (text.length() - 1 - i) * (charLength + gap);
            } else {
                x0 = -width / 2 + i * charWidth * 1.25;
                y0 = 0;
            }
            for (int r = 0; r < 7; r++) {
                String bits = glyph[r];
                int c = 0;
                while (c < 5) {
                    if (bits.charAt(c) != '#') {
                        c++;
                        continue;
                    }
                    int end = c;
                    while (end < 5 && bits.charAt(end) == '#') end++;
                    // row 0 of the glyph is its top: farthest from the camera
                    out.append(new Rectangle2D.Double(x0 + c * cell, y0 + (6 - r) * row, (end - c) * cell, row), false);
                    c = end;
                }
            }
        }
        return out;
    }

    static Shape placed(Shape local, double x, double z) {
        return AffineTransform.getTranslateInstance(x, z).createTransformedShape(local);
    }

    private static Path2D.Float polygon(double... xy) {
        Path2D.Float p = new Path2D.Float(Path2D.WIND_NON_ZERO);
        p.moveTo(xy[0], xy[1]);
        for (int i = 2; i < xy.length; i += 2) p.lineTo(xy[i], xy[i + 1]);
        p.closePath();
        return p;
    }

    private static Shape mirror(Shape s) {
        return AffineTransform.getScaleInstance(-1, 1).createTransformedShape(s);
    }

    private static Shape union(Shape a, Shape b) {
        Area area = new Area(a);
        area.add(new Area(b));
        return area;
    }

    private static Shape outline(Shape outer, Shape inner) {
        Area area = new Area(outer);
        area.subtract(new Area(inner));
        return area;
    }

    private static final Map<Character, String[]> GLYPHS = Map.ofEntries(
            Map.entry('A', new String[] {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}),
            Map.entry('B', new String[] {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}),
            Map.entry('E', new String[] {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}),
            Map.entry('K', new String[] {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}),
            Map.entry('L', new String[] {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}),
            Map.entry('N', new String[] {"#...#", "##..#", "#.#.#", "#.#.#", "#..##", "#...#", "#...#"}),
            Map.entry('O', new String[] {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}),
            Map.entry('P', new String[] {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}),
            Map.entry('S', new String[] {".####", "#....", "#....", ".###.", "....#", "....#", "####."}),
            Map.entry('T', new String[] {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}),
            Map.entry('U', new String[] {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}),
            Map.entry('W', new String[] {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"}),
            Map.entry('Y', new String[] {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}),
            Map.entry('0', new String[] {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}),
            Map.entry('1', new String[] {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}),
            Map.entry('2', new String[] {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}),
            Map.entry('3', new String[] {"####.", "....#", "....#", ".###.", "....#", "....#", "####."}),
            Map.entry('4', new String[] {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}),
            Map.entry('5', new String[] {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}),
            Map.entry('6', new String[] {".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."}),
            Map.entry('7', new String[] {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}),
            Map.entry('8', new String[] {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}),
            Map.entry('9', new String[] {".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."}));
}
