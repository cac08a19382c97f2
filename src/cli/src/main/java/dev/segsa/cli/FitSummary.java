package dev.segsa.cli;

import dev.segsa.samodel.SaModel;

import java.util.Locale;

/** The table printed after a fit: one row per class. */
final class FitSummary {
    private FitSummary() {}

    static String table(SaModel sa) {
        StringBuilder b = new StringBuilder();
        int w = 5;
        for (String n : sa.settings().classNames()) w = Math.max(w, n.length());
        b.append(String.format(Locale.ROOT, "%-4s %-" + w + "s %14s %12s%n", "id", "class", "pixels", "references"));
        int d = sa.settings().featureDimension();
        for (int c = 0; c < sa.classes(); c++) {
            long refs = sa.references() == null || sa.references()[c] == null ? 0 : sa.references()[c].length / d;
            b.append(String.format(Locale.ROOT, "%-4d %-" + w + "s %14d %12d%n", c, sa.settings().classNames().get(c),
                    sa.statistics()[c].count(), refs));
        }
        b.append(String.format(Locale.ROOT, "feature dimension %d, upsample %s", d, sa.settings().upsample()));
        return b.toString();
    }
}
