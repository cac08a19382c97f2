package dev.segsa.synth;

import java.awt.Color;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The world of one sequence, drawn at random from a seed and the sequence's conditions: the
 * road (lanes, lane lines, markings, toll-plaza chevrons), the vehicles on it, the structures
 * and trees beside it, the shadows across it and, at night, the lights. Positions are in metres
 * in road coordinates (x to the right of the camera's lane centre, z along the road from where
 * the camera starts); the camera and the vehicles move forward at constant speeds, so frame k of
 * the sequence is this world seen at time {@code k * FRAME_INTERVAL}.
 */
final class RoadScene {
    /** Seconds between consecutive frames of a sequence (a 10 frames/s camera). */
    static final double FRAME_INTERVAL = 0.1;
    /** How far ahead the world is furnished, beyond the camera's last position. */
    static final double VIEW_DISTANCE = 170;

    record LaneLine(String id, RoadClass cls, Color color, double x, double width, boolean dashed, double dash, double gap, double phase) {}

    record Marking(String id, RoadClass cls, Color color, Shape shape, double zNear, double zFar) {}

    record Vehicle(String id, String type, double x, double z0, double speed, double width, double height, double length,
                   Color body) {
        double z(double t) {
            return z0 + speed * t;
        }
    }

    enum StructureKind { BUILDING, POLE, STREET_LAMP, GUARDRAIL, MEDIAN_BARRIER, GANTRY, TREE }

    /** Something upright beside (or over) the road; x0..x1 across, z0..z1 along, height in metres. */
    record Structure(String id, StructureKind kind, double x0, double x1, double z0, double z1, double height, Color color) {}

    record Light(double x, double y, double z0, double speed, Color color, double radius) {}

    final SceneConditions conditions;
    final int frames;
    final double cameraSpeed;
    final double lateralOffset;
    final double focal;
    final double horizon;
    final double cameraX;
    final double mountHeight;
    final double curvature;
    final int lanes;
    final int egoLane;
    final double laneWidth;
    final double roadLeft;
    final double roadRight;
    final Color asphalt;
    final Color verge;
    final List<LaneLine> laneLines = new ArrayList<>();
    final List<Marking> markings = new ArrayList<>();
    final List<Marking> patches = new ArrayList<>();
    final List<Vehicle> vehicles = new ArrayList<>();
    final List<Structure> structures = new ArrayList<>();
    final List<Light> lights = new ArrayList<>();
    final Path2D.Float shadows = new Path2D.Float(Path2D.WIND_NON_ZERO);
    private int nextId;

    RoadScene(long seed, SceneConditions conditions, int frames) {
        this.conditions = conditions;
        this.frames = frames;
        SplittableRandom r = new SplittableRandom(seed);
        boolean heavy = conditions.traffic() == TrafficDensity.HEAVY;
        cameraSpeed = heavy ? uniform(r, 4, 9) : uniform(r, 12, 24);
        focal = uniform(r, 250, 280);
        horizon = uniform(r, 138, 156);
        cameraX = uniform(r, 248, 264);
        mountHeight = uniform(r, 1.25, 1.5);
        curvature = r.nextDouble() < 0.35 ? 0 : uniform(r, -0.0012, 0.0012);
        lanes = heavy ? 3 + r.nextInt(2) : 2 + r.nextInt(3);
        egoLane = r.nextInt(lanes);
        laneWidth = uniform(r, 3.3, 3.7);
        lateralOffset = uniform(r, -0.3, 0.3);
        double left = (-egoLane - 0.5) * laneWidth - lateralOffset;
        roadLeft = left - uniform(r, 0.4, 1.2);
        roadRight = left + lanes * laneWidth + uniform(r, 0.6, 2.2);
        int grey = 88 + r.nextInt(40);
        asphalt = new Color(grey, grey + r.nextInt(4), grey + 2 + r.nextInt(6));
        verge = r.nextBoolean() ? new Color(86 + r.nextInt(30), 104 + r.nextInt(30), 58 + r.nextInt(20))
                : new Color(120 + r.nextInt(30), 108 + r.nextInt(25), 90 + r.nextInt(20));
        double end = travel() + VIEW_DISTANCE;
        laneLines(r, left);
        markings(r, left, end);
        patches(r, end);
        vehicles(r, left);
        structures(r, end);
        if (conditions.shadows() == ShadowPattern.COMPLEX) shadows(r, end);
        if (conditions.time() != TimeOfDay.DAY) lights(r, end);
    }

    /** Metres the camera travels over the whole sequence. */
    double travel() {
        return cameraSpeed * FRAME_INTERVAL * (frames - 1);
    }

    double cameraZ(int index) {
        return cameraSpeed * FRAME_INTERVAL * index;
    }

    private String id(String kind) {
        return kind + "-" + nextId++;
    }

    private static double uniform(SplittableRandom r, double lo, double hi) {
        return lo + r.nextDouble() * (hi - lo);
    }

    private static final Color WHITE = new Color(236, 236, 228);
    private static final Color YELLOW = new Color(238, 190, 40);
    private static final Color BLUE = new Color(40, 92, 205);

    private void laneLines(SplittableRandom r, double left) {
        boolean busLane = lanes >= 3 && r.nextDouble() < 0.3;
        double dash = uniform(r, 3, 8), gap = dash * uniform(r, 1.2, 1.8);
        for (int i = 0; i <= lanes; i++) {
            double x = left + i * laneWidth;
            if (i == 0) {
                if (r.nextDouble() < 0.6) {
                    laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_YELLOW, YELLOW, x - 0.16, 0.15, false, 0, 0, 0));
                    laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_YELLOW, YELLOW, x + 0.16, 0.15, false, 0, 0, 0));
                } else {
                    laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_WHITE, WHITE, x, 0.2, false, 0, 0, 0));
                }
            } else if (i == lanes) {
                laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_WHITE, WHITE, x, 0.2, false, 0, 0, 0));
            } else if (busLane && i == lanes - 1) {
                boolean dashed = r.nextBoolean();
                laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_BLUE, BLUE, x, 0.18, dashed, dash, gap, uniform(r, 0, dash + gap)));
            } else if (r.nextDouble() < 0.12) {
                laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_YELLOW, YELLOW, x, 0.15, false, 0, 0, 0));
            } else {
                laneLines.add(new LaneLine(id("lane"), RoadClass.LANE_WHITE, WHITE, x, 0.15, true, dash, gap, uniform(r, 0, dash + gap)));
            }
        }
    }

    private void markings(SplittableRandom r, double left, double end) {
        for (int lane = 0; lane < lanes; lane++) {
            double centre = left + (lane + 0.5) * laneWidth;
            double z = uniform(r, 2, 16);
            while (z < end) {
                if (r.nextDouble() < 0.7) {
                    double x = centre + uniform(r, -0.15, 0.15);
                    double kind = r.nextDouble();
                    Color paint = r.nextDouble() < 0.85 ? WHITE : YELLOW;
                    RoadClass cls;
                    Shape local;
                    if (kind < 0.32) {
                        cls = RoadClass.MARKER_ARROW;
                        local = MarkingShapes.arrow(MarkingShapes.ARROWS[r.nextInt(MarkingShapes.ARROWS.length)]);
                    } else if (kind < 0.52) {
                        cls = RoadClass.MARKER_SHAPE;
                        local = MarkingShapes.shape(MarkingShapes.SHAPES[r.nextInt(MarkingShapes.SHAPES.length)]);
                    } else if (kind < 0.70) {
                        cls = RoadClass.MARKER_CHARACTER;
                        local = MarkingShapes.text(MarkingShapes.WORDS[r.nextInt(MarkingShapes.WORDS.length)], 0.5, uniform(r, 2.2, 3.0));
                    } else if (kind < 0.86) {
                        cls = RoadClass.MARKER_NUMBER;
                        local = MarkingShapes.text(MarkingShapes.NUMBERS[r.nextInt(MarkingShapes.NUMBERS.length)], 0.7, uniform(r, 2.6, 3.4));
                    } else {
                        cls = RoadClass.MARKER_CROSS;
                        local = MarkingShapes.cross();
                    }
                    Shape placed = MarkingShapes.placed(local, x, z);
                    Rectangle2D b = placed.getBounds2D();
                    markings.add(new Marking(id("marker"), cls, paint, placed, b.getMinY(), b.getMaxY()));
                    z = b.getMaxY();
                }
                z += uniform(r, 8, 30);
            }
        }
        if (r.nextDouble() < 0.15) {
            Color paint = switch (r.nextInt(3)) {
                case 0 -> new Color(236, 120, 32);
                case 1 -> new Color(40, 170, 90);
                default -> new Color(226, 90, 150);
            };
            double z0 = uniform(r, 20, Math.max(21, end - 60));
            int chevrons = 4 + r.nextInt(4);
            for (int lane = 0; lane < lanes; lane++) {
                double centre = left + (lane + 0.5) * laneWidth;
                for (int k = 0; k < chevrons; k++) {
                    Shape placed = MarkingShapes.placed(MarkingShapes.tollChevron(laneWidth), centre, z0 + 3.0 * k);
                    Rectangle2D b = placed.getBounds2D();
                    markings.add(new Marking(id("toll"), RoadClass.TOLL_GATE_MARKER, paint, placed, b.getMinY(), b.getMaxY()));
                }
            }
        }
    }

    /** Darker repaired asphalt: part of the road area, so only the image shows it. */
    private void patches(SplittableRandom r, double end) {
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) {
            double z = uniform(r, 3, end), len = uniform(r, 2, 12);
            double x0 = uniform(r, roadLeft, roadRight - 1), w = uniform(r, 0.8, Math.min(4, roadRight - x0));
            int d = -18 + r.nextInt(10);
            Color c = new Color(clamp(asphalt.getRed() + d), clamp(asphalt.getGreen() + d), clamp(asphalt.getBlue() + d));
            patches.add(new Marking(id("patch"), RoadClass.ROAD_AREA, c, new Rectangle2D.Double(x0, z, w, len), z, z + len));
        }
    }

    private void vehicles(SplittableRandom r, double left) {
        TrafficDensity traffic = conditions.traffic();
        int n = traffic.minVehicles() + r.nextInt(traffic.maxVehicles() - traffic.minVehicles() + 1);
        boolean heavy = traffic == TrafficDensity.HEAVY;
        double[] laneSpeed = new double[lanes];
        for (int i = 0; i < lanes; i++) {
            double relative = heavy ? uniform(r, -1.5, 1.5) : uniform(r, -3, 4);
            if (i == egoLane) relative = Math.abs(relative) + 0.3;
            laneSpeed[i] = cameraSpeed + relative;
        }
        double reach = heavy ? 70 : 110;
        int attempts = 0;
        while (vehicles.size() < n && attempts++ < 400) {
            int lane = r.nextInt(lanes);
            double u = r.nextDouble();
            String type = u < 0.55 ? "car" : u < 0.8 ? "suv" : u < 0.93 ? "truck" : "bus";
            double w, h, l;
            switch (type) {
                case "car" -> { w = uniform(r, 1.7, 1.85); h = uniform(r, 1.4, 1.5); l = uniform(r, 4.2, 4.8); }
                case "suv" -> { w = uniform(r, 1.85, 1.95); h = uniform(r, 1.65, 1.85); l = uniform(r, 4.5, 5.0); }
                case "truck" -> { w = uniform(r, 2.3, 2.5); h = uniform(r, 2.6, 3.4); l = uniform(r, 7, 10); }
                default -> { w = 2.5; h = uniform(r, 3.1, 3.4); l = uniform(r, 10.5, 12); }
            }
            double z0 = uniform(r, lane == egoLane ? 7 : 3, reach);
            double gap = heavy ? 2.5 : 6;
            boolean free = true;
            double x = left + (lane + 0.5) * laneWidth + uniform(r, -0.25, 0.25);
            for (Vehicle v : vehicles) {
                if (Math.abs(v.x - x) < laneWidth / 2 && z0 < v.z0 + v.length + gap && v.z0 < z0 + l + gap) free = false;
            }
            if (!free) continue;
            int shade = r.nextInt(8);
            Color body = switch (shade) {
                case 0 -> new Color(230, 230, 232);
                case 1 -> new Color(28, 28, 32);
                case 2 -> new Color(150, 154, 160);
                case 3 -> new Color(165, 30, 34);
                case 4 -> new Color(30, 60, 130);
                case 5 -> new Color(200, 200, 205);
                case 6 -> new Color(70, 74, 80);
                default -> new Color(60 + r.nextInt(180), 60 + r.nextInt(180), 60 + r.nextInt(180));
            };
            vehicles.add(new Vehicle(id("vehicle"), type, x, z0, laneSpeed[lane], w, h, l, body));
        }
    }

    private void structures(SplittableRandom r, double end) {
        if (r.nextDouble() < 0.7) {
            for (double z = 0; z < end; z += 6) {
                structures.add(new Structure(id("guardrail"), StructureKind.GUARDRAIL, roadRight + 0.4, roadRight + 0.5, z, z + 6, 0.85,
                        new Color(170, 174, 178)));
            }
        }
        if (r.nextDouble() < 0.55) {
            for (double z = 0; z < end; z += 6) {
                structures.add(new Structure(id("median"), StructureKind.MEDIAN_BARRIER, roadLeft - 0.6, roadLeft - 0.3, z, z + 6, 0.9,
                        new Color(182, 178, 168)));
            }
        }
        double spacing = uniform(r, 25, 45);
        boolean lamps = r.nextDouble() < 0.7;
        for (double z = uniform(r, 5, spacing); z < end; z += spacing) {
            double x = roadRight + uniform(r, 0.9, 1.4);
            structures.add(new Structure(id(lamps ? "lamp" : "pole"), lamps ? StructureKind.STREET_LAMP : StructureKind.POLE, x, x + 0.25,
                    z, z + 0.25, uniform(r, 7.5, 10), new Color(120, 124, 128)));
        }
        if (r.nextDouble() < 0.3) {
            double z = uniform(r, 30, end - 20);
            structures.add(new Structure(id("gantry"), StructureKind.GANTRY, roadLeft - 0.8, roadRight + 0.8, z, z + 0.5, uniform(r, 6, 7),
                    new Color(96, 100, 106)));
        }
        for (int side = -1; side <= 1; side += 2) {
            if (r.nextDouble() < 0.6) {
                for (double z = uniform(r, 0, 20); z < end; ) {
                    double len = uniform(r, 12, 35), setback = uniform(r, 4, 14), depth = uniform(r, 8, 20);
                    double x0 = side > 0 ? roadRight + setback : roadLeft - setback - depth;
                    int g = 110 + r.nextInt(110);
                    Color c = new Color(clamp(g + r.nextInt(30) - 15), clamp(g + r.nextInt(20) - 10), clamp(g + r.nextInt(30) - 20));
                    structures.add(new Structure(id("building"), StructureKind.BUILDING, x0, x0 + depth, z, z + len, uniform(r, 6, 28), c));
                    z += len + uniform(r, 2, 14);
                }
            }
            int trees = r.nextInt(12);
            for (int i = 0; i < trees; i++) {
                double z = uniform(r, 4, end), setback = uniform(r, 2.5, 9);
                double x = side > 0 ? roadRight + setback : roadLeft - setback;
                double crown = uniform(r, 1.5, 3.2);
                structures.add(new Structure(id("tree"), StructureKind.TREE, x - crown, x + crown, z, z + 0.4, uniform(r, 4.5, 9),
                        new Color(46 + r.nextInt(30), 80 + r.nextInt(40), 36 + r.nextInt(20))));
            }
        }
    }

    /** Dappled tree shadows, thin pole shadows and wide structure shadows across the road. */
    private void shadows(SplittableRandom r, double end) {
        double angle = uniform(r, -0.9, 0.9);
        for (double z = uniform(r, 2, 15); z < end; z += uniform(r, 6, 22)) {
            int kind = r.nextInt(3);
            if (kind == 0) {
                double cx = uniform(r, roadLeft - 2, roadRight + 2), cz = z;
                int blobs = 8 + r.nextInt(18);
                for (int i = 0; i < blobs; i++) {
                    double rx = uniform(r, 0.3, 1.6), rz = uniform(r, 0.3, 2.2);
                    shadows.append(new Ellipse2D.Double(cx + uniform(r, -3, 3) - rx, cz + uniform(r, -3.5, 3.5) - rz, 2 * rx, 2 * rz), false);
                }
            } else if (kind == 1) {
                double w = uniform(r, 0.15, 0.45), x0 = roadRight + 1, x1 = roadLeft - 1, dz = (x0 - x1) * Math.tan(angle);
                Path2D.Float band = new Path2D.Float();
                band.moveTo(x0, z);
                band.lineTo(x0, z + w);
                band.lineTo(x1, z + w + dz);
                band.lineTo(x1, z + dz);
                band.closePath();
                shadows.append(band, false);
            } else {
                double depth = uniform(r, 2, 9), x0 = uniform(r, roadLeft - 1, roadRight), x1 = roadRight + 2;
                if (r.nextBoolean()) {
                    x1 = x0;
                    x0 = roadLeft - 1;
                }
                shadows.append(new Rectangle2D.Double(x0, z, x1 - x0, depth), false);
            }
        }
    }

    private void lights(SplittableRandom r, double end) {
        boolean night = conditions.time() == TimeOfDay.NIGHT;
        for (Structure s : structures) {
            if (s.kind == StructureKind.STREET_LAMP && (night || r.nextDouble() < 0.5)) {
                lights.add(new Light(s.x0 - 2.2, s.height - 0.2, s.z0, 0, new Color(255, 214, 150), 1.2));
            }
        }
        int oncoming = night ? 2 + r.nextInt(6) : r.nextInt(3);
        for (int i = 0; i < oncoming; i++) {
            double x = roadLeft - uniform(r, 2.5, 9), z = uniform(r, 10, end), speed = -uniform(r, 12, 25);
            lights.add(new Light(x - 0.75, 0.7, z, speed, new Color(255, 250, 235), 1.6));
            lights.add(new Light(x + 0.75, 0.7, z, speed, new Color(255, 250, 235), 1.6));
        }
    }

    static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
