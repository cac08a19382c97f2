package dev.segsa.synth;

import org.junit.jupiter.api.Test;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class RoadSceneGeneratorTest {
    private static final ConditionSpec EVERYTHING = ConditionSpec.parse("time=mix,shadows=mix,traffic=mix,noise=0..1,blur=0..3");

    private static List<SyntheticFrame> mixedFrames(int n, long seed) {
        List<SyntheticFrame> frames = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long s = RoadSceneGenerator.sequenceSeed(seed, i);
            frames.add(RoadSceneGenerator.frame(s, EVERYTHING.sample(RoadSceneGenerator.conditionRandom(s)), 0, 1));
        }
        return frames;
    }

    @Test
    void classIdsAreThoseOfThePapersTable2() {
        assertEquals(14, RoadClass.values().length);
        assertEquals(RoadClass.COUNT, RoadClass.values().length);
        for (RoadClass c : RoadClass.values()) assertEquals(c.ordinal(), c.id());
        assertEquals("Void", RoadClass.ofId(0).description());
        assertEquals("Lanes (Blue)", RoadClass.ofId(2).description());
        assertEquals("Road Marker (Crosses)", RoadClass.ofId(8).description());
        assertEquals("Toll Gate Marker", RoadClass.ofId(9).description());
        assertEquals("Road Area", RoadClass.ofId(11).description());
        assertEquals("General Structures", RoadClass.ofId(13).description());
        assertThrows(IllegalArgumentException.class, () -> RoadClass.ofId(14));
    }

    @Test
    void framesHaveThePapersSizeAndOnlyValidLabels() {
        for (SyntheticFrame f : mixedFrames(24, 11)) {
            assertEquals(512, f.width());
            assertEquals(336, f.height());
            assertEquals(512 * 336, f.labels().length);
            for (byte b : f.labels()) assertTrue((b & 0xFF) < RoadClass.COUNT, "label id " + (b & 0xFF));
            long[] counts = f.classPixels();
            assertTrue(counts[RoadClass.ROAD_AREA.id()] > 0.15 * f.labels().length, "road area covers the lower part of the frame");
            assertTrue(counts[RoadClass.VOID.id()] > 0, "sky");
        }
    }

    /** A pixel of a class other than void and road area lies inside the box of something drawn with that class. */
    @Test
    void everyLabelledPixelBelongsToSomethingDrawnWithItsClass() {
        for (SyntheticFrame f : mixedFrames(24, 12)) {
            Map<Integer, List<Rectangle>> boxes = new HashMap<>();
            for (DrawnObject o : f.objects()) boxes.computeIfAbsent(o.cls().id(), k -> new ArrayList<>()).add(o.bounds());
            for (int y = 0; y < f.height(); y++) {
                for (int x = 0; x < f.width(); x++) {
                    int c = f.label(x, y);
                    if (c == RoadClass.VOID.id() || c == RoadClass.ROAD_AREA.id()) continue;
                    int px = x, py = y;
                    assertTrue(boxes.getOrDefault(c, List.of()).stream().anyMatch(b -> b.contains(px, py)),
                            "pixel (" + x + ", " + y + ") labelled " + RoadClass.ofId(c) + " outside every object of that class, seed " + f.sequenceSeed());
                }
            }
        }
    }

    /** What was drawn and left uncovered shows in the label: lanes where lane lines were drawn, vehicles in their boxes. */
    @Test
    void everyVisibleObjectShowsItsClassInItsBox() {
        int vehiclesChecked = 0, linesChecked = 0, markersChecked = 0;
        for (SyntheticFrame f : mixedFrames(30, 13)) {
            List<DrawnObject> objects = f.objects();
            for (DrawnObject o : objects) {
                if (o.cls() == RoadClass.VOID || o.cls() == RoadClass.ROAD_AREA) continue;
                Rectangle b = o.bounds();
                boolean[] free = new boolean[b.width * b.height];
                Arrays.fill(free, true);
                int freeCount = free.length;
                for (DrawnObject later : objects.subList(o.order() + 1, objects.size())) {
                    if (later.id().equals(o.id())) continue;
                    Rectangle cut = later.bounds().intersection(b);
                    for (int y = cut.y; y < cut.y + cut.height; y++) {
                        for (int x = cut.x; x < cut.x + cut.width; x++) {
                            int i = (y - b.y) * b.width + (x - b.x);
                            if (free[i]) {
                                free[i] = false;
                                freeCount--;
                            }
                        }
                    }
                }
                int own = 0;
                for (int y = b.y; y < b.y + b.height; y++) for (int x = b.x; x < b.x + b.width; x++) if (f.label(x, y) == o.cls().id()) own++;
                if (b.width >= 6 && b.height >= 6 && freeCount == free.length) {
                    if (o.cls() == RoadClass.VEHICLE) {
                        assertTrue(own >= 0.4 * free.length, o + ": only " + own + " vehicle pixels in its uncovered box");
                        vehiclesChecked++;
                    } else {
                        assertTrue(own > 0, o + ": no pixel of its class in its uncovered box");
                        if (o.kind().equals("lane line")) linesChecked++;
                        else if (o.cls().id() >= 4 && o.cls().id() <= 9) markersChecked++;
                    }
                }
                if (o.kind().equals("lane line")) {
                    assertTrue(own > 0, o + ": lane line drawn but none of its pixels labelled, seed " + f.sequenceSeed());
                    linesChecked++;
                }
            }
        }
        assertTrue(vehiclesChecked >= 5, "vehicles checked: " + vehiclesChecked);
        assertTrue(linesChecked >= 30, "lane lines checked: " + linesChecked);
        assertTrue(markersChecked >= 10, "road markers checked: " + markersChecked);
    }

    @Test
    void everyClassIsDrawnSomewhereInAMixedSet() {
        long[] total = new long[RoadClass.COUNT];
        for (SyntheticFrame f : mixedFrames(80, 14)) {
            long[] c = f.classPixels();
            for (int i = 0; i < total.length; i++) total[i] += c[i];
        }
        for (RoadClass c : RoadClass.values()) assertTrue(total[c.id()] > 0, c + " never drawn in 80 frames");
    }

    @Test
    void sameSeedGivesIdenticalFramesAndDifferentSeedsDiffer() {
        SceneConditions c = new SceneConditions(TimeOfDay.NIGHT, ShadowPattern.COMPLEX, TrafficDensity.HEAVY, 0.5, 1.5);
        SyntheticFrame a = RoadSceneGenerator.frame(42, c, 2, 4), b = RoadSceneGenerator.frame(42, c, 2, 4);
        assertArrayEquals(pixels(a.image()), pixels(b.image()));
        assertArrayEquals(a.labels(), b.labels());
        assertEquals(a.objects(), b.objects());
        SyntheticFrame other = RoadSceneGenerator.frame(43, c, 2, 4);
        assertFalse(Arrays.equals(pixels(a.image()), pixels(other.image())));
        assertFalse(Arrays.equals(a.labels(), other.labels()));
        assertNotEquals(RoadSceneGenerator.sequenceSeed(1, 0), RoadSceneGenerator.sequenceSeed(1, 1));
        assertNotEquals(RoadSceneGenerator.sequenceSeed(1, 0), RoadSceneGenerator.sequenceSeed(2, 0));
    }

    @Test
    void nightIsDarkerThanDuskWhichIsDarkerThanDay() {
        double day = 0, dusk = 0, night = 0;
        for (long s = 0; s < 12; s++) {
            day += meanLuminance(RoadSceneGenerator.frame(s, SceneConditions.DEFAULT, 0, 1));
            dusk += meanLuminance(RoadSceneGenerator.frame(s, with(TimeOfDay.DUSK), 0, 1));
            night += meanLuminance(RoadSceneGenerator.frame(s, with(TimeOfDay.NIGHT), 0, 1));
        }
        assertTrue(night < 0.5 * day, "night " + night / 12 + " vs day " + day / 12);
        assertTrue(dusk < 0.9 * day && dusk > night, "dusk " + dusk / 12 + " between night " + night / 12 + " and day " + day / 12);
    }

    private static SceneConditions with(TimeOfDay t) {
        SceneConditions d = SceneConditions.DEFAULT;
        return new SceneConditions(t, d.shadows(), d.traffic(), d.noise(), d.blur());
    }

    /** Lighting, shadows, noise and blur change what the camera sees, not what is there. */
    @Test
    void imageOnlyConditionsLeaveTheLabelsAlone() {
        for (long s = 0; s < 6; s++) {
            SyntheticFrame base = RoadSceneGenerator.frame(s, SceneConditions.DEFAULT, 0, 1);
            for (SceneConditions c : List.of(new SceneConditions(TimeOfDay.DAY, ShadowPattern.COMPLEX, TrafficDensity.LIGHT, 0, 0),
                    new SceneConditions(TimeOfDay.DAY, ShadowPattern.NONE, TrafficDensity.LIGHT, 0.6, 0),
                    new SceneConditions(TimeOfDay.DAY, ShadowPattern.NONE, TrafficDensity.LIGHT, 0, 2.5),
                    new SceneConditions(TimeOfDay.NIGHT, ShadowPattern.NONE, TrafficDensity.LIGHT, 0, 0))) {
                SyntheticFrame f = RoadSceneGenerator.frame(s, c, 0, 1);
                assertArrayEquals(base.labels(), f.labels(), c.toString());
                assertFalse(Arrays.equals(pixels(base.image()), pixels(f.image())), c + " changed nothing in the image");
            }
        }
    }

    @Test
    void trafficDensityControlsTheVehicles() {
        double none = 0, light = 0, heavy = 0;
        for (long s = 0; s < 16; s++) {
            none += vehicles(RoadSceneGenerator.frame(s, traffic(TrafficDensity.NONE), 0, 1));
            light += vehicles(RoadSceneGenerator.frame(s, traffic(TrafficDensity.LIGHT), 0, 1));
            heavy += vehicles(RoadSceneGenerator.frame(s, traffic(TrafficDensity.HEAVY), 0, 1));
        }
        assertEquals(0, none);
        assertTrue(light >= 16, "light traffic: " + light + " vehicles in 16 frames");
        assertTrue(heavy > 2.5 * light, "heavy " + heavy + " vs light " + light);
    }

    private static SceneConditions traffic(TrafficDensity t) {
        return new SceneConditions(TimeOfDay.DAY, ShadowPattern.NONE, t, 0, 0);
    }

    private static long vehicles(SyntheticFrame f) {
        return f.objects().stream().filter(o -> o.cls() == RoadClass.VEHICLE).count();
    }

    /**
     * In a sequence the camera moves forward at constant speed: painted markings come closer by
     * the same distance every frame and slide down the image; each vehicle keeps its own speed.
     */
    @Test
    void sequencesMoveConsistently() {
        int markingsFollowed = 0, vehiclesFollowed = 0;
        for (long seed = 0; seed < 4; seed++) {
            int k = 8;
            List<SyntheticFrame> seq = new ArrayList<>();
            for (int i = 0; i < k; i++) seq.add(RoadSceneGenerator.frame(seed, SceneConditions.DEFAULT, i, k));
            double step = seq.get(1).cameraZ() - seq.get(0).cameraZ();
            assertTrue(step > 0.3, "camera moves " + step + " m per frame");
            for (int i = 1; i < k; i++) assertEquals(step, seq.get(i).cameraZ() - seq.get(i - 1).cameraZ(), 1e-9);
            Map<String, List<DrawnObject>> tracks = new HashMap<>();
            for (SyntheticFrame f : seq) {
                for (DrawnObject o : f.objects()) {
                    if (o.cls().id() >= 4 && o.cls().id() <= 10) tracks.computeIfAbsent(o.id(), x -> new ArrayList<>()).add(o);
                }
            }
            for (var e : tracks.entrySet()) {
                List<DrawnObject> t = e.getValue();
                if (t.size() < 3) continue;
                if (t.getFirst().cls() == RoadClass.VEHICLE) {
                    double d = t.get(1).depth() - t.get(0).depth();
                    for (int i = 2; i < t.size(); i++) assertEquals(d, t.get(i).depth() - t.get(i - 1).depth(), 1e-6, e.getKey());
                    vehiclesFollowed++;
                } else {
                    for (int i = 1; i < t.size(); i++) {
                        assertEquals(-step, t.get(i).depth() - t.get(i - 1).depth(), 1e-6, e.getKey());
                        Rectangle a = t.get(i - 1).bounds(), b = t.get(i).bounds();
                        if (a.y + a.height < 336 && b.y + b.height < 336) {
                            assertTrue(b.y + b.height >= a.y + a.height, e.getKey() + " moved up the image: " + a + " -> " + b);
                        }
                    }
                    markingsFollowed++;
                }
            }
        }
        assertTrue(markingsFollowed >= 8, "markings followed: " + markingsFollowed);
        assertTrue(vehiclesFollowed >= 3, "vehicles followed: " + vehiclesFollowed);
    }

    @Test
    void indexOutsideTheSequenceIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> RoadSceneGenerator.frame(1, SceneConditions.DEFAULT, 3, 3));
        assertTrue(e.getMessage().contains("outside the sequence"), e.getMessage());
    }

    static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    static double meanLuminance(SyntheticFrame f) {
        double sum = 0;
        for (int p : pixels(f.image())) sum += 0.299 * ((p >> 16) & 0xFF) + 0.587 * ((p >> 8) & 0xFF) + 0.114 * (p & 0xFF);
        return sum / (f.width() * f.height());
    }

    @Test
    void conditionsAreSampledReproducibly() {
        SceneConditions a = EVERYTHING.sample(new SplittableRandom(5)), b = EVERYTHING.sample(new SplittableRandom(5));
        assertEquals(a, b);
    }
}
