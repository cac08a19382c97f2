package dev.segsa.cli;

import dev.segsa.scores.ClassGroups;
import dev.segsa.scores.ScoresCsv;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The table printed after scoring: per class and group, images, mean SA and mean IoU. */
final class ScoreSummary {
    private ScoreSummary() {}

    static String table(List<ScoresCsv.Row> rows, List<String> classNames, ClassGroups groups) {
        List<String> keys = new ArrayList<>(classNames);
        groups.groups().forEach(g -> keys.add(g.name()));
        int w = 5;
        for (String k : keys) w = Math.max(w, k.length());
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s %7s %12s %12s %9s%n",
                "class", "images", "mean mdsa", "mean lsa", "mean iou"));
        for (String k : keys) {
            int n = 0;
            double[] sum = new double[3];
            int[] cnt = new int[3];
            for (ScoresCsv.Row r : rows) {
                if (!r.className().equals(k)) continue;
                n++;
                double[] v = {r.mdsa(), r.lsa(), r.iou()};
                for (int i = 0; i < 3; i++) if (Double.isFinite(v[i])) { sum[i] += v[i]; cnt[i]++; }
            }
            if (n == 0) continue;
            b.append(String.format(Locale.ROOT, "%-" + w + "s %7d %12s %12s %9s%n", k, n, fmt(sum[0], cnt[0]),
                    fmt(sum[1], cnt[1]), fmt(sum[2], cnt[2])));
        }
        return b.toString().stripTrailing();
    }

    /** Time per frame in each stage, and SA time as a share of inference time. */
    static String stages(double decodeSeconds, dev.segsa.score.FrameScorer.StageSeconds st) {
        long n = Math.max(1, st.frames());
        double total = decodeSeconds + st.inference() + st.sa();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-10s %12s %8s%n", "stage", "ms/frame", "share"));
        String[] names = {"decode", "inference", "sa"};
        double[] secs = {decodeSeconds, st.inference(), st.sa()};
        for (int i = 0; i < 3; i++) {
            b.append(String.format(Locale.ROOT, "%-10s %12.1f %7.1f%%%n", names[i], 1000 * secs[i] / n, total > 0 ? 100 * secs[i] / total : 0));
        }
        b.append(String.format(Locale.ROOT, "%.2f frames/s end to end; SA time is %.1f%% of inference time",
                total > 0 ? st.frames() / total : 0, st.inference() > 0 ? 100 * st.sa() / st.inference() : 0));
        return b.toString();
    }

    private static String fmt(double sum, int n) {
        return n == 0 ? "-" : String.format(Locale.ROOT, "%.4f", sum / n);
    }
}
