package dev.segsa.stream;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The selector's exact decisions on seeded streams, against golden hashes: a change meant to be a
 * pure refactoring or optimisation (of the horizon check, the kept-times bookkeeping, the API) must
 * leave every decision, score, threshold and count bit for bit as it was (the reasons' wording is not hashed).
 *
 * <p>The golden values below were computed from the implementation as it was before the horizon
 * check was made incremental (StreamSelector.fitsHorizons copying the kept times into fresh arrays
 * on every keep attempt, commit 5b6b862), by running this test on that code. Do not update them to
 * make a change pass unless the change is meant to alter decisions, and then say so in its commit.
 */
class StreamSelectorGoldenTest {
    /** One stream: the budget, triggers, combination, gate and the stream's shape. */
    record Scenario(String name, SelectorConfig config, long seed, int frames, double fps, int sources, boolean sizes, boolean unknownSizes) {}

    static List<Scenario> scenarios() {
        List<Scenario> out = new ArrayList<>();
        Trigger a = Trigger.onBudget("a", Trigger.Score.IMAGE_MDSA);
        Trigger fixed = new Trigger("b", Trigger.Score.SHARE_ABOVE, null, 0, 0.9, 1.5);
        SelectorConfig.Budget.Kind share = SelectorConfig.Budget.Kind.SHARE, fpm = SelectorConfig.Budget.Kind.FRAMES_PER_MINUTE,
                bph = SelectorConfig.Budget.Kind.BYTES_PER_HOUR;
        out.add(new Scenario("share default", cfg(List.of(a), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(share, 0.05, 60, 0, 1, 2, 0), -1), 1, 12_000, 30, 1, false, false));
        out.add(new Scenario("share burst short horizon", cfg(List.of(a, fixed), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(share, 0.1, 10, 20, 8, 1, 0), 6), 2, 12_000, 25, 2, false, false));
        out.add(new Scenario("share all, window 0", cfg(List.of(a, fixed), SelectorConfig.Combine.ALL,
                new SelectorConfig.Budget(share, 0.2, 20, 0, 3, 0, 0), -1), 3, 6_000, 15, 1, false, false));
        out.add(new Scenario("share per-source minimum", cfg(List.of(a), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(share, 0.08, 15, 10, 5, 3, 0.02), 4), 4, 15_000, 30, 3, false, false));
        out.add(new Scenario("frames per minute", cfg(List.of(a, fixed), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(fpm, 30, 20, 30, 12, 2, 0), -1), 5, 12_000, 30, 2, false, false));
        out.add(new Scenario("frames per minute, window = horizon", cfg(List.of(a), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(fpm, 12, 5, 0, 2, 5, 0), -1), 6, 9_000, 20, 1, false, false));
        out.add(new Scenario("bytes per hour, known sizes", cfg(List.of(a, fixed), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(bph, 2e9, 30, 20, 10, 2, 0), 5), 7, 12_000, 30, 2, true, false));
        out.add(new Scenario("bytes per hour, some sizes unknown", cfg(List.of(a), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(bph, 5e8, 12, 0, 15, 1.5, 0), -1), 8, 12_000, 30, 3, true, true));
        out.add(new Scenario("bytes per hour, minimum, unknown sizes", cfg(List.of(a, fixed), SelectorConfig.Combine.ANY,
                new SelectorConfig.Budget(bph, 1e9, 8, 10, 25, 2.5, 0.02), 3), 9, 15_000, 30, 3, true, true));
        Random r = new Random(2024);
        for (int i = 0; i < 6; i++) {  // a few drawn at random, every kind
            SelectorConfig.Budget.Kind kind = SelectorConfig.Budget.Kind.values()[i % 3];
            double value = switch (kind) {
                case SHARE -> 0.02 + 0.2 * r.nextDouble();
                case FRAMES_PER_MINUTE -> 5 + 60 * r.nextDouble();
                case BYTES_PER_HOUR -> 2e8 + 3e9 * r.nextDouble();
            };
            double horizon = 3 + 40 * r.nextDouble(), window = horizon * r.nextDouble() * 0.3;
            double min = r.nextBoolean() ? 0 : (kind == share ? value / 4 : 0.01);
            SelectorConfig.Budget b = new SelectorConfig.Budget(kind, value, horizon, r.nextInt(50), 1 + r.nextInt(15), window, min);
            out.add(new Scenario("random " + i, cfg(r.nextBoolean() ? List.of(a) : List.of(a, fixed),
                    r.nextInt(4) == 0 ? SelectorConfig.Combine.ALL : SelectorConfig.Combine.ANY, b, r.nextBoolean() ? -1 : r.nextInt(8)),
                    100 + i, 8_000, 10 + 20 * r.nextDouble(), 1 + r.nextInt(3), true, r.nextBoolean()));
        }
        return out;
    }

    static SelectorConfig cfg(List<Trigger> triggers, SelectorConfig.Combine combine, SelectorConfig.Budget b, int maxHamming) {
        return new SelectorConfig(triggers, combine, b, 0, 0, maxHamming, 16);
    }

    /** The selector's offer, in one place (the only line that follows an API change). */
    static List<StreamSelector.Decision> offer(StreamSelector s, int source, boolean scored, double[] scores, double t, long descriptor,
                                               boolean hasDescriptor, long bytes) {
        return s.offerScores(source, scored, scores, t, hasDescriptor ? FrameDescriptor.of(descriptor) : FrameDescriptor.NONE, bytes);
    }

    /**
     * Every decision of the scenario's stream, one line each, then the counts: regime changes (quiet
     * and surprising stretches) and short bursts of high scores, several sources slightly out of
     * order, unscored frames, skipped frames, advances, near-duplicate descriptors and frame sizes.
     */
    static String record(Scenario sc) {
        StreamSelector s = new StreamSelector(sc.config(), 500);
        Random r = new Random(sc.seed());
        int n = sc.config().triggers().size();
        long[] scenes = new long[8];
        for (int i = 0; i < scenes.length; i++) scenes[i] = r.nextLong();
        StringBuilder out = new StringBuilder(sc.name()).append('\n');
        double t = 0;
        for (int i = 0; i < sc.frames(); i++) {
            int source = i % sc.sources();
            if (source == 0) t += 1 / sc.fps();
            double time = t + (source == 0 ? 0 : (r.nextDouble() - 0.6) * 0.02);  // other cameras a little early or late
            double minute = Math.floor(time / 45);
            boolean loud = ((long) minute) % 3 == 2, burst = r.nextInt(400) == 0 || (i % 1500) < 40;
            double[] scores = new double[n];
            scores[0] = (loud ? 7 : 5) + (burst ? 4 : 0) + r.nextGaussian() + source * 0.3;
            if (n > 1) scores[1] = r.nextInt(5) == 0 ? Double.NaN : Math.min(1, Math.max(0, r.nextDouble() * (burst ? 1.3 : 0.95)));
            boolean scored = r.nextInt(100) != 0;
            boolean has = r.nextInt(4) != 0;
            long descriptor = has ? scenes[(int) (minute + (burst ? 3 : 0)) % scenes.length] ^ (1L << r.nextInt(64)) ^ (r.nextInt(3) == 0
                    ? r.nextLong() : 0) : 0;
            long bytes = !sc.sizes() ? 0 : sc.unknownSizes() && r.nextInt(3) == 0 ? 0 : 20_000 + r.nextInt(r.nextInt(8) == 0 ? 2_000_000 : 400_000);
            take(out, offer(s, source, scored, scores, time, descriptor, has, bytes));
            if (r.nextInt(300) == 0) s.skipped(source, 1 + r.nextInt(20));
            if (r.nextInt(250) == 0) take(out, s.advance(time + r.nextDouble() * 3));
        }
        take(out, s.flush());
        StreamSelector.Stats st = s.stats();
        // the counts (not the credit's last bits, which the stats round for people)
        out.append(st.seen()).append(' ').append(st.scored()).append(' ').append(st.skipped()).append(' ').append(st.kept()).append(' ')
                .append(st.budgetDrops()).append(' ').append(st.duplicateDrops()).append(' ').append(st.pacedKeeps()).append(' ')
                .append(st.pending()).append(' ').append(st.backwardTimes()).append('\n').append(s.sourceStats()).append('\n');
        for (int i = 0; i < n; i++) out.append(Double.doubleToLongBits(s.threshold(i))).append('\n');
        return out.toString();
    }

    static void take(StringBuilder out, List<StreamSelector.Decision> ds) {
        for (StreamSelector.Decision d : ds) {
            out.append(d.frame()).append(' ').append(d.source()).append(' ').append(Double.doubleToLongBits(d.seconds())).append(' ')
                    .append(d.keep()).append(' ').append(d.rule()).append(' ').append(Double.doubleToLongBits(d.score())).append(' ')
                    .append(Double.doubleToLongBits(d.threshold())).append('\n');
            REASONS.get().append(d.reason()).append('\n');
        }
    }

    /** The decisions' reasons (text for people, not hashed: its wording may change), for the count of horizon refusals. */
    static final ThreadLocal<StringBuilder> REASONS = ThreadLocal.withInitial(StringBuilder::new);

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * One per scenario, in order. Recomputed when the reasons' wording left the hash (2026-12-07), from the code of
     * 1eeda35, whose decisions this test had held bit-identical to those of 5b6b862 with the reasons included.
     */
    static final List<String> GOLDEN = List.of(
        "55fdd6d539c8a2aa14dddde3340bdbbd",  // share default
        "d2fbd986b0e5bd26975f680a0e9ee71b",  // share burst short horizon
        "1b36389ff39f71669c63343e7da83d10",  // share all, window 0
        "4a92319d4dcb1e66e662b96dc83e426d",  // share per-source minimum
        "9bd545f811ae59e84d6cba1e1ad26c15",  // frames per minute
        "58885b46c6f3e8c216bb871d51c23ea2",  // frames per minute, window = horizon
        "aa23250e71ca38cca2f4f0f77168e63d",  // bytes per hour, known sizes
        "561ec883a3d5bb9ea1e42405cd79844b",  // bytes per hour, some sizes unknown
        "f2bdacf35fde0a444c735584f82598ae",  // bytes per hour, minimum, unknown sizes
        "d630e63cf6eaae754633c432c8ce3164",  // random 0
        "914f2054961e9dcf3c32530cc6ea0a54",  // random 1
        "ad880a700c3512867b53df6fcf18bbf6",  // random 2
        "c2036aa31aed3a50335e002e0baaa02d",  // random 3
        "b270e69ac5164a1587353e8937f039e9",  // random 4
        "1e401dd030836b000bd4c99a932e34fa"); // random 5

    @Test
    void decisionsAreBitIdenticalToTheGoldenOnes() throws Exception {
        List<Scenario> all = scenarios();
        List<String> got = new ArrayList<>();
        long overBudget = 0;
        StringBuilder listing = new StringBuilder();
        for (Scenario sc : all) {
            REASONS.get().setLength(0);
            String rec = record(sc);
            got.add(sha256(rec).substring(0, 32));
            listing.append("\n        \"").append(got.getLast()).append("\",  // ").append(sc.name());
            for (String line : REASONS.get().toString().split("\n")) if (line.contains("over budget")) overBudget++;
        }
        // the streams reach the horizon check's refusals, or the test would not guard it
        assertTrue(overBudget > 1000, overBudget + " over-budget decisions");
        assertEquals(GOLDEN, got, "decisions changed; this run's hashes:" + listing);
    }
}
