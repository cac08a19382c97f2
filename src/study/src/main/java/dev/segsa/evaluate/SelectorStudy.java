package dev.segsa.evaluate;

import dev.segsa.io.AtomicOutput;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.stream.FrameDescriptor;
import dev.segsa.stream.SelectorConfig;
import dev.segsa.stream.StreamSelector;
import dev.segsa.stream.Trigger;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Does the vehicle's selector hold its budget and keep what hindsight would? Each labelled scores
 * file (segsa score --labels, with the class-aware score and, with --risk, the risk) is replayed as
 * one stream, in frame order, through a {@link StreamSelector} exactly as {@code segsa watch} feeds
 * it (its decisions depend only on the scores and the times), for each frame score (image MDSA, the
 * class-aware score, risk) at budgets of 5, 10 and 20%. Reported per rule: the kept share and its
 * relative error against the budget (whole stream, and the worst over every stretch of
 * {@code stretchSeconds}), the most frames kept within any horizon against the stated bound
 * (allowance + burst), the longest decision delay, online top-k recall (the share of the offline
 * top-x% by the same score over the whole stream that the online run kept; per horizon: of the
 * top-x% of each consecutive horizon, what hindsight keeps under the same horizon bound), and the
 * kept frames' mean mIoU beside the offline top-x% (whole stream and per horizon), every k-th
 * frame, random (20 seeded draws) and the oracle (the x% of lowest mIoU).
 *
 * <p>Usage: {@code SelectorStudy OUT.md [--sweep] NAME=SCORES.csv:FPS|camvid ...}; a stream's frame
 * times are its frame index / FPS, or, for {@code camvid}, the frame number in the name / 30 (its
 * sequences one after another). {@code --sweep} adds a table of window, horizon, warm-up and burst
 * settings (the class-aware score at 10%) over every stream.
 */
public final class SelectorStudy {
    private SelectorStudy() {}

    /** One stream: frame names in order, times, mIoU and each frame score. */
    record Stream(String name, List<String> frames, double[] seconds, double[] miou, Map<String, double[]> scores) {}

    /** One online run's figures. */
    record Figures(double keptShare, double budgetError, double worstStretchError, double maxInHorizon, double bound,
                   double maxDelay, double recall, double recallPerHorizon, double keptMiou, double perHorizonTopMiou) {}

    static final double[] BUDGETS = {0.05, 0.10, 0.20};
    static final List<String> SCORES = List.of("mdsa", "class_aware", "risk");

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: SelectorStudy OUT.md [--sweep] NAME=SCORES.csv:FPS|camvid ...");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        boolean sweep = false;
        List<Stream> streams = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--sweep")) {
                sweep = true;
                continue;
            }
            String name = args[i].substring(0, args[i].indexOf('='));
            String rest = args[i].substring(args[i].indexOf('=') + 1);
            int colon = rest.lastIndexOf(':');
            streams.add(load(name, Path.of(rest.substring(0, colon)), rest.substring(colon + 1)));
            System.err.println("selector-study: " + name + ": " + streams.getLast().frames().size() + " frames");
        }
        StringBuilder md = new StringBuilder();
        SelectorConfig.Budget defaults = SelectorConfig.Budget.share(0.1);
        md.append(String.format(Locale.ROOT, "Defaults: window %.0f s, horizon %.0f s, warm-up %d frames, burst %.0f. Stretch for the "
                + "worst budget error: %.0f s.%n%n", defaults.windowSeconds(), defaults.horizonSeconds(), defaults.warmupFrames(),
                defaults.burst(), STRETCH_SECONDS));
        md.append("| stream | score | budget | kept share | budget error | worst stretch error | most kept in a horizon (bound) "
                + "| longest delay s | top-k recall | per-horizon recall | kept mIoU | offline top-x% mIoU | per-horizon top-x% mIoU | every k-th | random (20) | oracle | all frames |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Stream s : streams) {
            for (String score : SCORES) {
                if (!s.scores().containsKey(score)) continue;
                for (double budget : BUDGETS) {
                    Figures f = online(s, score, SelectorConfig.Budget.share(budget));
                    boolean[] top = offlineTop(s.scores().get(score), budget);
                    double every = mean(s.miou(), everyKth(s.frames().size(), budget));
                    double random = 0;
                    for (int d = 0; d < 20; d++) random += mean(s.miou(), random(s.frames().size(), budget, d)) / 20;
                    double oracle = mean(s.miou(), offlineTop(negate(s.miou()), budget));
                    md.append(String.format(Locale.ROOT, "| %s | %s | %.0f%% | %.4f | %+.1f%% | %+.1f%% | %.0f (%.1f) | %.1f | %.3f | %.3f | %.3f | %.3f "
                                    + "| %.3f | %.3f | %.3f | %.3f | %.3f |%n", s.name(), score, 100 * budget, f.keptShare(),
                            100 * f.budgetError(), 100 * f.worstStretchError(), f.maxInHorizon(), f.bound(), f.maxDelay(), f.recall(),
                            f.recallPerHorizon(), f.keptMiou(), mean(s.miou(), top), f.perHorizonTopMiou(), every, random, oracle, mean(s.miou(), null)));
                }
            }
        }
        if (sweep) {
            md.append("\nSettings (class-aware score, 10%; recall and budget errors per stream):\n\n");
            md.append("| window s | horizon s | warm-up | burst |");
            for (Stream s : streams) md.append(" ").append(s.name()).append(" recall | per-horizon recall | error | worst stretch | kept mIoU |");
            md.append(" mean recall |\n|---|---|---|---|");
            for (int i = 0; i < streams.size(); i++) md.append("---|---|---|---|---|");
            md.append("---|\n");
            for (double window : new double[] {0, 2, 10}) {
                for (double horizon : new double[] {60, 120, 300, 600, 1800}) {
                    for (int warmup : new int[] {0, 30}) {
                        for (double burst : new double[] {1, 3}) {
                            SelectorConfig.Budget b = new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, 0.1, horizon, warmup, burst,
                                    window, 0);
                            md.append(String.format(Locale.ROOT, "| %.0f | %.0f | %d | %.0f |", window, horizon, warmup, burst));
                            double r = 0;
                            for (Stream s : streams) {
                                Figures f = online(s, "class_aware", b);
                                md.append(String.format(Locale.ROOT, " %.3f | %.3f | %+.1f%% | %+.1f%% | %.3f |", f.recall(),
                                        f.recallPerHorizon(), 100 * f.budgetError(),
                                        100 * f.worstStretchError(), f.keptMiou()));
                                r += f.recall() / streams.size();
                            }
                            md.append(String.format(Locale.ROOT, " %.3f |%n", r));
                        }
                    }
                }
            }
        }
        AtomicOutput.write(out, md.toString().getBytes(StandardCharsets.UTF_8));
        System.out.print(md);
    }

    /** Stretch over which the worst budget error is measured. */
    static final double STRETCH_SECONDS = 600;

    static Stream load(String name, Path file, String fps) {
        ScoresCsv.Contents c = ScoresCsv.read(file);
        FrameFailureStudy.Frames f = FrameFailureStudy.frames(c, Set.of(), null);
        int n = f.names().size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        boolean camvid = fps.equals("camvid");
        if (camvid) {
            Arrays.sort(order, Comparator.comparing((Integer i) -> sequence(f.names().get(i))).thenComparingLong(i -> number(f.names().get(i))));
        } else {
            Arrays.sort(order, Comparator.comparing(i -> f.names().get(i)));
        }
        List<String> frames = new ArrayList<>();
        double[] seconds = new double[n], miou = new double[n];
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (String s : SCORES) if (f.scores().containsKey(s)) scores.put(s, new double[n]);
        double offset = 0, last = 0;
        String lastSeq = null;
        for (int k = 0; k < n; k++) {
            int i = order[k];
            String nm = f.names().get(i);
            frames.add(nm);
            if (camvid) {
                String seq = sequence(nm);
                double t = number(nm) / 30.0;
                if (lastSeq != null && !seq.equals(lastSeq)) offset = last + 1 - t;  // the next sequence 1 s after the last frame
                lastSeq = seq;
                seconds[k] = offset + t;
                last = seconds[k];
            } else {
                seconds[k] = k / Double.parseDouble(fps);
            }
            miou[k] = f.miou()[i];
            for (var e : scores.entrySet()) e.getValue()[k] = f.scores().get(e.getKey())[i];
        }
        return new Stream(name, frames, seconds, miou, scores);
    }

    private static String sequence(String name) {
        return name.substring(0, Math.max(0, name.indexOf('_')));
    }

    private static long number(String name) {
        String digits = name.substring(name.indexOf('_') + 1).replaceAll("^[^0-9]*", "").replaceAll("[^0-9].*$", "");
        return digits.isEmpty() ? 0 : Long.parseLong(digits);
    }

    /** The stream through a selector with one budget trigger on {@code score}. */
    static Figures online(Stream s, String score, SelectorConfig.Budget budget) {
        Trigger.Score key = switch (score) {
            case "mdsa" -> Trigger.Score.IMAGE_MDSA;
            case "class_aware" -> Trigger.Score.CLASS_AWARE;
            default -> Trigger.Score.RISK;
        };
        SelectorConfig cfg = new SelectorConfig(List.of(Trigger.onBudget(score, key)), SelectorConfig.Combine.ANY, budget, 0, 0, -1, 32);
        StreamSelector sel = new StreamSelector(cfg);
        double[] v = s.scores().get(score);
        int n = v.length;
        boolean[] kept = new boolean[n];
        double maxDelay = 0;
        for (int i = 0; i < n; i++) {
            boolean ok = Double.isFinite(v[i]);
            for (StreamSelector.Decision d : sel.offerScores(0, ok, new double[] {ok ? v[i] : Double.NaN}, s.seconds()[i], FrameDescriptor.NONE, 0)) {
                kept[(int) d.frame()] = d.keep();
                maxDelay = Math.max(maxDelay, s.seconds()[i] - d.seconds());
            }
        }
        for (StreamSelector.Decision d : sel.flush()) kept[(int) d.frame()] = d.keep();
        long k = 0;
        for (boolean b : kept) if (b) k++;
        double share = (double) k / n;
        // worst relative error over every stretch of STRETCH_SECONDS (starting at each frame), and most kept in any horizon
        double worst = 0, maxH = 0;
        int[] cum = new int[n + 1];
        for (int i = 0; i < n; i++) cum[i + 1] = cum[i] + (kept[i] ? 1 : 0);
        int j = 0, h = 0;
        boolean anyStretch = false;
        for (int i = 0; i < n; i++) {
            while (j < n && s.seconds()[j] < s.seconds()[i] + STRETCH_SECONDS) j++;
            if (j < n || (s.seconds()[n - 1] - s.seconds()[i]) >= STRETCH_SECONDS - 1e-9) {
                int frames = j - i;
                double err = (cum[j] - cum[i]) / (budget.value() * frames) - 1;
                if (Math.abs(err) > Math.abs(worst)) worst = err;
                anyStretch = true;
            }
            while (h < n && s.seconds()[h] < s.seconds()[i] + budget.horizonSeconds()) h++;
            maxH = Math.max(maxH, cum[h] - cum[i]);
        }
        if (!anyStretch) worst = share / budget.value() - 1;
        // the bound: the allowance of the fullest horizon (share x frames in it) plus the burst
        double bound = 0;
        int hh = 0;
        for (int i = 0; i < n; i++) {
            while (hh < n && s.seconds()[hh] < s.seconds()[i] + budget.horizonSeconds()) hh++;
            bound = Math.max(bound, budget.value() * (hh - i) + budget.burst());
        }
        boolean[] top = offlineTop(v, budget.value());
        long both = 0, tops = 0;
        for (int i = 0; i < n; i++) {
            if (top[i]) {
                tops++;
                if (kept[i]) both++;
            }
        }
        // hindsight under the same horizon: the top-x% of each consecutive block of one horizon
        boolean[] blockTop = new boolean[n];
        for (int a = 0; a < n; ) {
            int e = a;
            while (e < n && s.seconds()[e] < s.seconds()[a] + budget.horizonSeconds()) e++;
            boolean[] t = offlineTop(Arrays.copyOfRange(v, a, e), budget.value());
            System.arraycopy(t, 0, blockTop, a, e - a);
            a = e;
        }
        long both2 = 0, tops2 = 0;
        for (int i = 0; i < n; i++) {
            if (blockTop[i]) {
                tops2++;
                if (kept[i]) both2++;
            }
        }
        return new Figures(share, share / budget.value() - 1, worst, maxH, bound, maxDelay, tops == 0 ? Double.NaN : (double) both / tops,
                tops2 == 0 ? Double.NaN : (double) both2 / tops2, mean(s.miou(), kept), mean(s.miou(), blockTop));
    }

    /** The round(x n) frames of highest value (NaN last; ties by frame). */
    static boolean[] offlineTop(double[] v, double share) {
        int n = v.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> Double.isNaN(v[i]) ? Double.POSITIVE_INFINITY : -v[i])
                .thenComparingInt(i -> i));
        boolean[] k = new boolean[n];
        int want = (int) Math.round(share * n);
        for (int i = 0; i < want; i++) if (!Double.isNaN(v[order[i]])) k[order[i]] = true;
        return k;
    }

    static double[] negate(double[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) o[i] = -v[i];
        return o;
    }

    static boolean[] everyKth(int n, double share) {
        boolean[] k = new boolean[n];
        int step = (int) Math.round(1 / share);
        for (int i = step - 1; i < n; i += step) k[i] = true;
        return k;
    }

    static boolean[] random(int n, double share, int draw) {
        boolean[] k = new boolean[n];
        int want = (int) Math.round(share * n);
        SplittableRandom r = new SplittableRandom(1000L * draw + n);
        int chosen = 0;
        while (chosen < want) {
            int i = r.nextInt(n);
            if (!k[i]) {
                k[i] = true;
                chosen++;
            }
        }
        return k;
    }

    /** Mean of {@code v} over the kept frames (all when {@code kept} is null). */
    static double mean(double[] v, boolean[] kept) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < v.length; i++) {
            if ((kept == null || kept[i]) && Double.isFinite(v[i])) {
                sum += v[i];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
