package dev.segsa.synth;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.Paint;
import java.awt.RadialGradientPaint;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Draws frame k of a {@link RoadScene}. The image and the label mask are drawn with the same
 * shapes in the same order (far to near for upright things), the image anti-aliased, the label
 * not, so every label pixel carries the class of what is visible there. Shadows, lights, glare,
 * blur and noise touch the image only.
 */
final class FrameRenderer {
    static final int WIDTH = 512;
    static final int HEIGHT = 336;
    /** Upright things and markings farther than this are not drawn (they would be under a pixel). */
    static final double DRAW_DISTANCE = 165;
    /** A vehicle whose rear is nearer than this (it is passing the camera) is not drawn. */
    static final double NEAREST_VEHICLE = 2.5;

    private final RoadScene scene;
    private final PerspectiveCamera camera;
    private final BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    private final BufferedImage label = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    private final Graphics2D gi;
    private final Graphics2D gl;
    private final List<DrawnObject> objects = new ArrayList<>();
    private final List<Glow> glows = new ArrayList<>();
    private final Rectangle frame = new Rectangle(0, 0, WIDTH, HEIGHT);
    private final Map<RoadClass, Rectangle> current = new EnumMap<>(RoadClass.class);
    private String currentId;
    private String currentKind;
    private double currentDepth;

    private record Glow(double u, double v, double radius, Color color, double stretch) {}

    private record Upright(double depth, Runnable draw) {}

    FrameRenderer(RoadScene scene) {
        this.scene = scene;
        this.camera = new PerspectiveCamera(WIDTH, HEIGHT, scene.focal, scene.cameraX, scene.horizon, scene.mountHeight, scene.curvature);
        gi = image.createGraphics();
        gi.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        gi.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        gi.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_SPEED);
        gl = label.createGraphics();
        gl.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
        gl.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    }

    SyntheticFrame render(int index, long sequenceSeed, long noiseSeed) {
        double camZ = scene.cameraZ(index);
        double t = index * RoadScene.FRAME_INTERVAL;
        drawBackground();
        drawRoad(camZ);
        drawShadows(camZ, t);
        drawUpright(camZ, t);
        gi.dispose();
        gl.dispose();
        int[] rgb = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        SceneConditions c = scene.conditions;
        CameraEffects.light(rgb, WIDTH, HEIGHT, c.time(), camera);
        drawGlare(camZ, t);
        CameraEffects.blur(rgb, WIDTH, HEIGHT, c.blur());
        CameraEffects.noise(rgb, c.noise(), noiseSeed);
        int[] ids = ((DataBufferInt) label.getRaster().getDataBuffer()).getData();
        byte[] labels = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) labels[i] = (byte) (ids[i] & 0xFF);
        return new SyntheticFrame(image, labels, List.copyOf(objects), c, sequenceSeed, index, camZ);
    }

    // ---- drawing both image and label -------------------------------------------------------

    private void begin(String id, String kind, double depth) {
        currentId = id;
        currentKind = kind;
        currentDepth = depth;
        current.clear();
    }

    private void fill(Shape s, Paint paint, RoadClass cls) {
        Rectangle b = s.getBounds().intersection(frame);
        if (b.isEmpty()) return;
        gi.setPaint(paint);
        gi.fill(s);
        gl.setColor(LABEL_COLOURS[cls.id()]);
        gl.fill(s);
        current.merge(cls, b, Rectangle::union);
    }

    private void end() {
        for (var e : current.entrySet()) {
            objects.add(new DrawnObject(currentId, currentKind, e.getKey(), e.getValue(), currentDepth, objects.size()));
        }
        current.clear();
    }

    private static final Color[] LABEL_COLOURS = new Color[RoadClass.COUNT];

    static {
        for (int i = 0; i < RoadClass.COUNT; i++) LABEL_COLOURS[i] = new Color(i, i, i);
    }

    // ---- ground -----------------------------------------------------------------------------

    private void drawBackground() {
        TimeOfDay time = scene.conditions.time();
        float h = (float) scene.horizon;
        Color top, low;
        switch (time) {
            case DAY -> { top = new Color(92, 142, 214); low = new Color(196, 214, 232); }
            case DUSK -> { top = new Color(120, 112, 176); low = new Color(255, 196, 150); }
            default -> { top = new Color(40, 48, 84); low = new Color(96, 92, 120); }
        }
        begin("sky", "sky", Double.POSITIVE_INFINITY);
        fill(new Rectangle2D.Float(0, 0, WIDTH, h + 1), new GradientPaint(0, 0, top, 0, h, low), RoadClass.VOID);
        end();
        Color verge = scene.verge;
        begin("verge", "ground", Double.POSITIVE_INFINITY);
        fill(new Rectangle2D.Float(0, h, WIDTH, HEIGHT - h), new GradientPaint(0, h, mix(verge, low, 0.45), 0, HEIGHT, verge), RoadClass.VOID);
        end();
    }

    private void drawRoad(double camZ) {
        float h = (float) scene.horizon;
        begin("road", "road area", 0);
        Color far = mix(scene.asphalt, new Color(190, 196, 204), 0.35);
        fill(camera.ground(new Rectangle2D.Double(scene.roadLeft, 0, scene.roadRight - scene.roadLeft, 1200)),
                new GradientPaint(0, HEIGHT, scene.asphalt, 0, h, far), RoadClass.ROAD_AREA);
        for (RoadScene.Marking p : scene.patches) {
            if (p.zFar() - camZ < PerspectiveCamera.NEAR || p.zNear() - camZ > DRAW_DISTANCE) continue;
            fill(camera.ground(shifted(p.shape(), camZ)), p.color(), RoadClass.ROAD_AREA);
        }
        end();
        for (RoadScene.LaneLine line : scene.laneLines) {
            begin(line.id(), "lane line", 0);
            double reach = camZ + 220;
            if (!line.dashed()) {
                fill(camera.ground(new Rectangle2D.Double(line.x() - line.width() / 2, 0, line.width(), 220)), line.color(), line.cls());
            } else {
                double period = line.dash() + line.gap();
                double start = line.phase() + Math.floor((camZ - line.phase()) / period) * period;
                Path2D.Float dashes = new Path2D.Float();
                for (double z = start; z < reach; z += period) {
                    dashes.append(new Rectangle2D.Double(line.x() - line.width() / 2, z - camZ, line.width(), line.dash()), false);
                }
                fill(camera.ground(dashes), line.color(), line.cls());
            }
            end();
        }
        for (RoadScene.Marking m : scene.markings) {
            double near = m.zNear() - camZ;
            if (m.zFar() - camZ < PerspectiveCamera.NEAR || near > DRAW_DISTANCE) continue;
            begin(m.id(), kindOf(m.cls()), near);
            fill(camera.ground(shifted(m.shape(), camZ)), m.color(), m.cls());
            end();
        }
    }

    private static String kindOf(RoadClass cls) {
        return switch (cls) {
            case MARKER_ARROW -> "arrow";
            case MARKER_SHAPE -> "shape";
            case MARKER_CHARACTER -> "characters";
            case MARKER_NUMBER -> "number";
            case MARKER_CROSS -> "cross";
            case TOLL_GATE_MARKER -> "toll gate marker";
            default -> cls.description();
        };
    }

    private static Shape shifted(Shape worldShape, double camZ) {
        return AffineTransform.getTranslateInstance(0, -camZ).createTransformedShape(worldShape);
    }

    private void drawShadows(double camZ, double t) {
        double strength = switch (scene.conditions.time()) {
            case DAY -> 1.0;
            case DUSK -> 0.7;
            case NIGHT -> 0.35;
        };
        Path2D.Float contact = new Path2D.Float();
        for (RoadScene.Vehicle v : scene.vehicles) {
            double zr = v.z(t) - camZ;
            if (zr < NEAREST_VEHICLE || zr > DRAW_DISTANCE) continue;
            contact.append(new Rectangle2D.Double(v.x() - v.width() / 2 - 0.1, zr - 0.15, v.width() + 0.2, v.length() + 0.3), false);
        }
        gi.setPaint(new Color(0, 0, 0, (int) (150 * strength)));
        gi.fill(camera.ground(contact));
        if (scene.conditions.shadows() == ShadowPattern.COMPLEX) {
            gi.setPaint(new Color(0, 0, 0, (int) (125 * strength)));
            gi.fill(camera.ground(shifted(scene.shadows, camZ)));
        }
    }

    // ---- upright things, far to near -----------------------------------------------------------

    private void drawUpright(double camZ, double t) {
        List<Upright> list = new ArrayList<>();
        for (RoadScene.Structure s : scene.structures) {
            double z0 = s.z0() - camZ, z1 = s.z1() - camZ;
            if (z1 < PerspectiveCamera.NEAR || z0 > DRAW_DISTANCE) continue;
            switch (s.kind()) {
                case BUILDING -> building(s, z0, z1, list);
                default -> {
                    if (z0 >= PerspectiveCamera.NEAR) list.add(new Upright(z0, () -> structure(s, z0, z1)));
                    else if (s.kind() == RoadScene.StructureKind.GUARDRAIL || s.kind() == RoadScene.StructureKind.MEDIAN_BARRIER)
                        list.add(new Upright(PerspectiveCamera.NEAR, () -> structure(s, z0, z1)));
                }
            }
        }
        for (RoadScene.Vehicle v : scene.vehicles) {
            double zr = v.z(t) - camZ;
            if (zr < NEAREST_VEHICLE || zr > DRAW_DISTANCE) continue;
            list.add(new Upright(zr, () -> vehicle(v, zr)));
        }
        list.sort(Comparator.comparingDouble(Upright::depth).reversed());
        for (Upright u : list) u.draw.run();
    }

    private void building(RoadScene.Structure s, double z0, double z1, List<Upright> list) {
        boolean right = s.x0() > 0;
        double face = right ? s.x0() : s.x1();
        Color side = scale(s.color(), 0.78);
        Color glass = mix(s.color(), new Color(40, 58, 80), 0.6);
        for (double za = Math.max(z0, PerspectiveCamera.NEAR); za < Math.min(z1, DRAW_DISTANCE); za += 8) {
            double a = za, b = Math.min(z1, za + 8);
            list.add(new Upright(a, () -> {
                begin(s.id(), "building", a);
                fill(camera.side(face, a, b, 0, s.height()), side, RoadClass.GENERAL_STRUCTURE);
                if (a < 90) {
                    Path2D.Float windows = new Path2D.Float();
                    for (double wz = z0 + 1.2; wz + 1.3 <= z1 - 1; wz += 3.5) {
                        if (wz < a || wz + 1.3 > b) continue;
                        for (double wy = 1.4; wy + 1.5 < s.height() - 0.6; wy += 3.2) {
                            windows.append(camera.side(face, wz, wz + 1.3, wy, wy + 1.5), false);
                        }
                    }
                    fill(windows, glass, RoadClass.GENERAL_STRUCTURE);
                }
                end();
            }));
        }
        if (z0 >= PerspectiveCamera.NEAR) {
            list.add(new Upright(z0, () -> {
                begin(s.id(), "building", z0);
                fill(camera.front(s.x0(), s.x1(), 0, s.height(), z0), s.color(), RoadClass.GENERAL_STRUCTURE);
                end();
            }));
        }
    }

    private void structure(RoadScene.Structure s, double z0, double z1) {
        RoadClass g = RoadClass.GENERAL_STRUCTURE;
        switch (s.kind()) {
            case GUARDRAIL, MEDIAN_BARRIER -> {
                boolean rail = s.kind() == RoadScene.StructureKind.GUARDRAIL;
                begin(s.id(), rail ? "guardrail" : "median barrier", Math.max(z0, PerspectiveCamera.NEAR));
                double face = s.x0() > 0 ? s.x0() : s.x1();
                if (rail) {
                    Path2D.Float posts = new Path2D.Float();
                    for (double pz = s.z0(); pz < s.z1(); pz += 2) {
                        double rz = pz - (s.z0() - z0);
                        if (rz >= PerspectiveCamera.NEAR) posts.append(camera.front(face, face + 0.12, 0, 0.75, rz), false);
                    }
                    fill(posts, scale(s.color(), 0.6), g);
                    fill(camera.side(face, z0, z1, 0.45, s.height()), s.color(), g);
                } else {
                    fill(camera.side(face, z0, z1, 0, s.height()), s.color(), g);
                }
                end();
            }
            case POLE, STREET_LAMP -> {
                begin(s.id(), s.kind() == RoadScene.StructureKind.POLE ? "pole" : "street lamp", z0);
                fill(camera.front(s.x0(), s.x1(), 0, s.height(), z0), s.color(), g);
                if (s.kind() == RoadScene.StructureKind.STREET_LAMP) {
                    fill(camera.front(s.x0() - 2.2, s.x0(), s.height() - 0.25, s.height() - 0.05, z0), s.color(), g);
                    fill(camera.front(s.x0() - 2.6, s.x0() - 1.8, s.height() - 0.45, s.height() - 0.15, z0), new Color(210, 210, 200), g);
                }
                end();
            }
            case GANTRY -> {
                begin(s.id(), "gantry", z0);
                double h = s.height();
                fill(camera.front(s.x0(), s.x0() + 0.4, 0, h, z0), s.color(), g);
                fill(camera.front(s.x1() - 0.4, s.x1(), 0, h, z0), s.color(), g);
                fill(camera.front(s.x0(), s.x1(), h - 0.6, h, z0), s.color(), g);
                double mid = (s.x0() + s.x1()) / 2;
                fill(camera.front(mid - 3.5, mid + 1.5, h - 2.8, h - 0.5, z0 - 0.05), new Color(20, 110, 60), g);
                fill(camera.front(mid - 3.2, mid + 1.2, h - 1.4, h - 1.1, z0 - 0.06), new Color(235, 240, 235), g);
                end();
            }
            case TREE -> {
                begin(s.id(), "tree", z0);
                double cxm = (s.x0() + s.x1()) / 2, r = (s.x1() - s.x0()) / 2;
                fill(camera.front(cxm - 0.18, cxm + 0.18, 0, s.height() - r, z0), new Color(84, 64, 44), RoadClass.VOID);
                double[] pts = new double[3 * 20];
                for (int i = 0; i < 20; i++) {
                    double a = 2 * Math.PI * i / 20;
                    pts[3 * i] = cxm + r * Math.cos(a);
                    pts[3 * i + 1] = s.height() - r + r * 1.1 * Math.sin(a);
                    pts[3 * i + 2] = z0;
                }
                fill(camera.polygon(pts), s.color(), RoadClass.VOID);
                end();
            }
            default -> throw new IllegalStateException("structure kind " + s.kind() + " drawn as a building");
        }
    }

    private void vehicle(RoadScene.Vehicle v, double zr) {
        boolean big = v.type().equals("truck") || v.type().equals("bus");
        double xl = v.x() - v.width() / 2, xr = v.x() + v.width() / 2, zf = zr + v.length(), h = v.height();
        double clearance = big ? 0.5 : 0.28, wheel = big ? 0.52 : 0.33;
        Color body = v.body(), shaded = scale(body, 0.72), tyre = new Color(24, 24, 26), hub = new Color(120, 122, 126);
        begin(v.id(), "vehicle", zr);
        double sideX = xl > 0.05 ? xl : xr < -0.05 ? xr : Double.NaN;
        if (!Double.isNaN(sideX)) {
            fill(camera.side(sideX, zr, zf, clearance, h), shaded, RoadClass.VEHICLE);
            if (!big) {
                fill(camera.side(sideX, zr + 1.0, zf - 1.3, h * 0.62, h * 0.9), new Color(38, 46, 58), RoadClass.VEHICLE);
            }
            double[] axles = big ? new double[] {zr + 1.2, zr + 2.6, zf - 1.6} : new double[] {zr + 0.85, zf - 0.95};
            for (double az : axles) {
                fill(wheelDisc(sideX, az, wheel, wheel), tyre, RoadClass.VEHICLE_WHEEL);
                fill(wheelDisc(sideX, az, wheel, wheel * 0.5), hub, RoadClass.VEHICLE_WHEEL);
            }
        }
        if (h < scene.mountHeight) fill(camera.polygon(xl, h, zr, xr, h, zr, xr, h, zf, xl, h, zf), scale(body, 1.1), RoadClass.VEHICLE);
        double wz = zr + (big ? 1.0 : 0.8);
        fill(camera.front(xl + 0.03, xl + 0.33, 0, 2 * wheel, wz), tyre, RoadClass.VEHICLE_WHEEL);
        fill(camera.front(xr - 0.33, xr - 0.03, 0, 2 * wheel, wz), tyre, RoadClass.VEHICLE_WHEEL);
        fill(camera.front(xl, xr, clearance, h, zr), body, RoadClass.VEHICLE);
        fill(camera.front(xl, xr, clearance, clearance + 0.16, zr), scale(body, 0.5), RoadClass.VEHICLE);
        switch (v.type()) {
            case "truck" -> fill(camera.front(v.x() - 0.02, v.x() + 0.02, clearance + 0.3, h - 0.1, zr), scale(body, 0.55), RoadClass.VEHICLE);
            case "bus" -> fill(camera.front(xl + 0.25, xr - 0.25, h * 0.65, h * 0.9, zr), new Color(34, 40, 50), RoadClass.VEHICLE);
            default -> fill(camera.front(xl + 0.18, xr - 0.18, h * 0.64, h * 0.92, zr), new Color(34, 40, 50), RoadClass.VEHICLE);
        }
        double ly0 = big ? clearance + 0.3 : h * 0.46, ly1 = ly0 + 0.16;
        Color tail = new Color(190, 24, 28);
        fill(camera.front(xl + 0.04, xl + 0.36, ly0, ly1, zr), tail, RoadClass.VEHICLE);
        fill(camera.front(xr - 0.36, xr - 0.04, ly0, ly1, zr), tail, RoadClass.VEHICLE);
        fill(camera.front(v.x() - 0.26, v.x() + 0.26, clearance + 0.2, clearance + 0.31, zr), new Color(226, 228, 214), RoadClass.VEHICLE);
        end();
        if (scene.conditions.time() != TimeOfDay.DAY) {
            double radius = Math.max(2.5, 0.5 * camera.scale(zr));
            Color glow = new Color(255, 40, 30);
            glows.add(new Glow(camera.u(xl + 0.2, zr), camera.v((ly0 + ly1) / 2, zr), radius, glow, 1.4));
            glows.add(new Glow(camera.u(xr - 0.2, zr), camera.v((ly0 + ly1) / 2, zr), radius, glow, 1.4));
        }
    }

    /** A wheel (or its hub) on the side of a vehicle: a disc in the plane x = sideX, projected point by point. */
    private Path2D.Float wheelDisc(double sideX, double axleZ, double radius, double r) {
        double[] pts = new double[3 * 16];
        for (int i = 0; i < 16; i++) {
            double a = 2 * Math.PI * i / 16;
            pts[3 * i] = sideX;
            pts[3 * i + 1] = radius + r * Math.sin(a);
            pts[3 * i + 2] = axleZ + r * Math.cos(a);
        }
        return camera.polygon(pts);
    }

    // ---- light sources (image only, after the lighting pass) ----------------------------------

    private void drawGlare(double camZ, double t) {
        TimeOfDay time = scene.conditions.time();
        if (time == TimeOfDay.DAY) return;
        for (RoadScene.Light l : scene.lights) {
            double z = l.z0() + l.speed() * t - camZ;
            if (z < 3 || z > DRAW_DISTANCE) continue;
            double radius = Math.max(3, l.radius() * camera.scale(z) * (time == TimeOfDay.NIGHT ? 1.4 : 0.8));
            glows.add(new Glow(camera.u(l.x(), z), camera.v(l.y(), z), radius, l.color(), l.speed() < 0 ? 3.0 : 1.0));
        }
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        int core = time == TimeOfDay.NIGHT ? 255 : 170;
        for (Glow glow : glows) {
            double r = glow.radius() * glow.stretch();
            if (glow.u() < -r || glow.u() > WIDTH + r || glow.v() < -r || glow.v() > HEIGHT + r) continue;
            Color c = glow.color();
            Color[] colours = {new Color(255, 255, 250, core), new Color(c.getRed(), c.getGreen(), c.getBlue(), core * 2 / 3),
                    new Color(c.getRed(), c.getGreen(), c.getBlue(), 0)};
            float[] stops = {0f, 0.18f, 1f};
            AffineTransform stretch = new AffineTransform();
            stretch.translate(glow.u(), glow.v());
            stretch.scale(glow.stretch(), 1);
            stretch.translate(-glow.u(), -glow.v());
            Point2D centre = new Point2D.Double(glow.u(), glow.v());
            g.setPaint(new RadialGradientPaint(centre, (float) glow.radius(), centre, stops, colours,
                    RadialGradientPaint.CycleMethod.NO_CYCLE, RadialGradientPaint.ColorSpaceType.SRGB, stretch));
            g.fill(stretch.createTransformedShape(new Ellipse2D.Double(glow.u() - glow.radius(), glow.v() - glow.radius(),
                    2 * glow.radius(), 2 * glow.radius())));
        }
        g.dispose();
    }

    // ---- colours -------------------------------------------------------------------------------

    static Color mix(Color a, Color b, double t) {
        return new Color((int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
                (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }

    static Color scale(Color c, double f) {
        return new Color(RoadScene.clamp((int) Math.round(c.getRed() * f)), RoadScene.clamp((int) Math.round(c.getGreen() * f)),
                RoadScene.clamp((int) Math.round(c.getBlue() * f)));
    }
}
