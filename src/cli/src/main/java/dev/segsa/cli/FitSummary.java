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
        var ref = sa.frameReference();
        b.append(String.format(Locale.ROOT, "%-4s %-" + w + "s %14s %12s%s%n", "id", "class", "pixels", "references",
                ref == null ? "" : "  class-aware frames"));
        int d = sa.settings().featureDimension();
        for (int c = 0; c < sa.classes(); c++) {
            long refs = sa.references() == null || sa.references()[c] == null ? 0 : sa.references()[c].length / d;
            b.append(String.format(Locale.ROOT, "%-4d %-" + w + "s %14d %12d%s%n", c, sa.settings().classNames().get(c),
                    sa.statistics()[c].count(), refs, ref == null ? "" : String.format(Locale.ROOT, "  %19d", ref.frames()[c])));
        }
        b.append(String.format(Locale.ROOT, "feature dimension %d, upsample %s", d, sa.settings().upsample()));
        return b.toString();
    }

    /** Fit frames below which a class's percentiles are coarse: a new frame easily lands past them (a class-aware score above 1). */
    static final int FEW_REFERENCE_FRAMES = 30;

    /**
     * A note when the class-aware score rests on few fit frames for some class (its reference has
     * at least {@code ClassFrameReference.MIN_FRAMES} but fewer than {@link #FEW_REFERENCE_FRAMES}),
     * or null.
     */
    static String fewReferenceFrames(SaModel sa) {
        var ref = sa.frameReference();
        if (ref == null) return null;
        java.util.List<String> few = new java.util.ArrayList<>();
        for (int c = 0; c < sa.classes(); c++) {
            if (ref.quantiles()[c] != null && ref.frames()[c] < FEW_REFERENCE_FRAMES) {
                few.add(sa.settings().classNames().get(c) + " " + ref.frames()[c]);
            }
        }
        if (few.isEmpty()) return null;
        return "the class-aware score rests on few fit frames for " + String.join(", ", few) + " (fewer than " + FEW_REFERENCE_FRAMES
                + "): their percentiles are coarse, and new frames land past them (a class-aware score above 1) easily; fit on "
                + "more frames that show these classes";
    }
}
