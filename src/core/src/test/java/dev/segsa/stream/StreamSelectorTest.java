package dev.segsa.stream;

import dev.segsa.error.SegsaException;
import dev.segsa.score.FrameResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The selector on synthetic seeded score streams: budgets, shift, cooldown, combination, diversity, determinism, config. */
class StreamSelectorTest {
    static final List<String> CLASSES = List.of("Road", "Pedestrian");

    /** A scored frame: Road with 1000 pixels of MDSA {@code road}, Pedestrian with {@code pedPixels} pixels of MDSA {@code ped}. */
    static FrameResult frame(double road, long pedPixels, double ped) {
        long[] px = {1000, pedPixels};
        double[] mean = {road, pedPixels > 0 ? ped : Double.NaN};
        return new FrameResult("f", 10, 10, CLASSES, px, mean, mean.clone(), mean.clone(), Double.NaN, null,
                FrameResult.LsaState.NOT_ASKED, null, null, 0, 0, new FrameResult.StageTimes(0, 0, 0, 0), null, null, null, null);
    }

    static FrameResult frame(double image) {
        return frame(image, 0, Double.NaN);
    }

    @Test
    void shareBudgetIsHeldOnAStationaryStream() {
        StreamSelector s = new StreamSelector(SelectorConfig.imageSaShare(0.05));
        SplittableRandom r = new SplittableRandom(1);
        int n = 20_000, keptAfterWarmup = 0;
        for (int i = 0; i < n; i++) {
            StreamSelector.Decision d = s.offer(frame(5 + r.nextGaussian()), i / 30.0);
            if (d.keep() && i >= 30) keptAfterWarmup++;
        }
        double share = (double) keptAfterWarmup / (n - 30);
        assertEquals(0.05, share, 0.005, "achieved share " + share);
        assertEquals(s.stats().kept() / (double) n, s.stats().achievedShare(), 1e-12);
    }

    @Test
    void budgetFollowsADistributionShiftWithinAHorizon() {
        // scores jump from N(5,1) to N(9,1) half-way: the quantile follows within one horizon (60 s = 1800 frames)
        SelectorConfig c = new SelectorConfig(List.of(Trigger.onBudget("image", Trigger.Score.IMAGE_MDSA)), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, 0.1, 60, 30, 3), 0, 0, -1, 32);
        StreamSelector s = new StreamSelector(c);
        SplittableRandom r = new SplittableRandom(2);
        int n = 12_000, half = n / 2, keptFirst = 0, keptLastQuarter = 0, keptTransition = 0;
        for (int i = 0; i < n; i++) {
            double mean = i < half ? 5 : 9;
            boolean k = s.offer(frame(mean + r.nextGaussian()), i / 30.0).keep();
            if (k && i < half) keptFirst++;
            if (k && i >= half && i < half + 1800) keptTransition++;
            if (k && i >= n * 3 / 4) keptLastQuarter++;
        }
        assertEquals(0.1, keptFirst / (double) half, 0.01);
        assertEquals(0.1, keptLastQuarter / (n / 4.0), 0.015);
        // the token bucket caps the transition: at most the share plus the burst
        assertTrue(keptTransition <= 0.1 * 1800 + 3 + 1, "kept " + keptTransition + " in the first horizon after the shift");
    }

    @Test
    void framesPerMinuteBudget() {
        SelectorConfig c = new SelectorConfig(List.of(Trigger.onBudget("image", Trigger.Score.IMAGE_MDSA)), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(SelectorConfig.Budget.Kind.FRAMES_PER_MINUTE, 6, 120, 30, 2), 0, 0, -1, 32);
        StreamSelector s = new StreamSelector(c);
        SplittableRandom r = new SplittableRandom(3);
        int minutes = 20;
        for (int i = 0; i < minutes * 60 * 30; i++) s.offer(frame(r.nextDouble()), i / 30.0);
        double perMinute = s.stats().keptPerMinute();
        assertTrue(perMinute <= 6.2 && perMinute >= 4.5, "kept " + perMinute + " frames per minute for a budget of 6");
    }

    @Test
    void cooldownSilencesAFixedTrigger() {
        SelectorConfig c = new SelectorConfig(List.of(new Trigger("high", Trigger.Score.IMAGE_MDSA, null, 0, 1.0, 2.0)),
                SelectorConfig.Combine.ANY, new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, 1, 300, 0, 1000), 0, 0, -1, 32);
        StreamSelector s = new StreamSelector(c);
        int kept = 0;
        for (int i = 0; i < 300; i++) if (s.offer(frame(5), i / 30.0).keep()) kept++;  // 10 s, always above
        assertEquals(5, kept, "one frame per 2 s cooldown over 10 s");
    }

    @Test
    void classTriggerNeedsItsPixelsAndCombinesWithAll() {
        Trigger ped = new Trigger("ped", Trigger.Score.CLASS_MDSA_MEAN, "Pedestrian", 50, 10, 0);
        Trigger img = new Trigger("img", Trigger.Score.IMAGE_MDSA, null, 0, 3, 0);
        SelectorConfig.Budget free = new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, 1, 300, 0, 1000);
        StreamSelector any = new StreamSelector(new SelectorConfig(List.of(ped, img), SelectorConfig.Combine.ANY, free, 0, 0, -1, 32));
        StreamSelector all = new StreamSelector(new SelectorConfig(List.of(ped, img), SelectorConfig.Combine.ALL, free, 0, 0, -1, 32));
        // 20 pedestrian pixels: below minPixels, the class rule does not apply
        StreamSelector.Decision d = any.offer(frame(1, 20, 50), 0);
        assertFalse(d.keep(), d.toString());
        assertTrue(any.offer(frame(1, 100, 50), 1).keep());
        StreamSelector.Decision a = all.offer(frame(1, 100, 12), 0);
        assertFalse(a.keep(), "image SA (1000 x 1 + 100 x 12) / 1100 = 2 is not above 3: " + a);
        assertTrue(all.offer(frame(20, 100, 50), 1).keep());
        SegsaException e = assertThrows(SegsaException.class, () -> new StreamSelector(new SelectorConfig(
                List.of(new Trigger("x", Trigger.Score.CLASS_MDSA_P95, "Cyclist", 0, 1, 0)), SelectorConfig.Combine.ANY, free, 0, 0, -1, 32))
                .offer(frame(1), 0));
        assertTrue(e.getMessage().contains("'Cyclist' is not one of") && e.getMessage().contains("Pedestrian"), e.getMessage());
    }

    @Test
    void diversityGateDropsNearDuplicates() {
        SelectorConfig c = new SelectorConfig(List.of(new Trigger("any", Trigger.Score.IMAGE_MDSA, null, 0, 0, 0)), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, 1, 300, 0, 1000), 0, 0, 4, 8);
        StreamSelector s = new StreamSelector(c);
        assertTrue(s.offer(frame(5), 0, 0xF0F0L, true, 0).keep());
        StreamSelector.Decision dup = s.offer(frame(5), 0.1, 0xF0F1L, true, 0);
        assertFalse(dup.keep());
        assertTrue(dup.reason().contains("near-duplicate of kept frame 0 (Hamming distance 1"), dup.reason());
        assertTrue(s.offer(frame(5), 0.2, 0xFFFF_0000_0000L, true, 0).keep());
        assertEquals(1, s.stats().duplicateDrops());
    }

    @Test
    void sameStreamSameDecisions() {
        List<String> a = run(11), b = run(11);
        assertEquals(a, b);
        assertNotEquals(a, run(12));
    }

    private static List<String> run(long seed) {
        SelectorConfig c = new SelectorConfig(List.of(Trigger.onBudget("img", Trigger.Score.IMAGE_MDSA),
                new Trigger("ped", Trigger.Score.CLASS_MDSA_P95, "Pedestrian", 10, Double.NaN, 1)), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, 0.05, 30, 20, 2), 0, 0, 6, 16);
        StreamSelector s = new StreamSelector(c);
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            StreamSelector.Decision d = s.offer(frame(5 + r.nextGaussian(), r.nextInt(40), 8 + 2 * r.nextGaussian()), i / 25.0,
                    r.nextLong(), true, 0);
            out.add(d.toString());
        }
        return out;
    }

    @Test
    void skippedFramesCountAsSeen() {
        StreamSelector s = new StreamSelector(SelectorConfig.imageSaShare(0.5));
        s.skipped(10);
        s.offer(frame(1), 0);
        assertEquals(11, s.stats().seen());
        assertEquals(10, s.stats().skipped());
        assertThrows(SegsaException.class, () -> s.offer(frame(1), -1), "time going back");
    }

    @Test
    void configFromJson(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("keep.json");
        Files.writeString(f, """
                {"combine": "all", "budget": {"framesPerMinute": 12, "horizonSeconds": 60},
                 "triggers": [{"name": "img", "score": "image-mdsa"},
                              {"name": "ped", "score": "class-mdsa-p95", "class": "Pedestrian", "minPixels": 200, "threshold": 12.5,
                               "cooldownSeconds": 3}],
                 "clip": {"preSeconds": 1, "postSeconds": 2}, "diversity": {"maxHamming": 5, "recent": 10}}
                """);
        SelectorConfig c = SelectorConfig.read(f);
        assertEquals(SelectorConfig.Combine.ALL, c.combine());
        assertEquals(SelectorConfig.Budget.Kind.FRAMES_PER_MINUTE, c.budget().kind());
        assertEquals(12.5, c.triggers().get(1).threshold());
        assertEquals(2, c.postSeconds());
        assertEquals(5, c.maxHamming());
        Files.writeString(f, "{\"budget\": {\"share\": 0.1}, \"triggers\": [{\"score\": \"image-mdsa\", \"treshold\": 3}]}");
        SegsaException e = assertThrows(SegsaException.class, () -> SelectorConfig.read(f));
        assertTrue(e.getMessage().contains("keep.json") && e.getMessage().contains("triggers[0].treshold: unknown field"), e.getMessage());
        Files.writeString(f, "{\"budget\": {\"share\": 1.5}, \"triggers\": [{\"score\": \"image-mdsa\"}]}");
        e = assertThrows(SegsaException.class, () -> SelectorConfig.read(f));
        assertTrue(e.getMessage().contains("share must be in (0, 1]"), e.getMessage());
        Files.writeString(f, "{\"budget\": {\"share\": 0.1}, \"triggers\": [{\"score\": \"image-sa\"}]}");
        e = assertThrows(SegsaException.class, () -> SelectorConfig.read(f));
        assertTrue(e.getMessage().contains("unknown trigger score 'image-sa'"), e.getMessage());
    }
}
