package dev.segsa.cli;

import dev.segsa.evaluate.ClassGroups;
import dev.segsa.report.ScoresCsv;

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

    private static String fmt(double sum, int n) {
        return n == 0 ? "-" : String.format(Locale.ROOT, "%.4f", sum / n);
    }
}
