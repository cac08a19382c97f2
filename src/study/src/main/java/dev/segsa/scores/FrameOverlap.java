package dev.segsa.scores;

/**
 * Per-class (and per-group) overlap of prediction and label in one frame, over the pixels whose
 * label is not the ignore label: IoU(c) = |pred = c AND label = c| / |pred = c OR label = c|.
 */
public final class FrameOverlap {
    private final long[] intersection;
    private final long[] predicted;
    private final long[] labelled;

    private FrameOverlap(int n) {
        intersection = new long[n];
        predicted = new long[n];
        labelled = new long[n];
    }

    /** Overlap of classes 0..classes-1, then of each group (indices classes + g). */
    public static FrameOverlap of(int[] pred, int[] label, int ignoreLabel, int classes, ClassGroups groups) {
        return of(java.nio.IntBuffer.wrap(pred), label, ignoreLabel, classes, groups);
    }

    /** As {@link #of(int[], int[], int, int, ClassGroups)}, with the predicted map as a (read-only) buffer. */
    public static FrameOverlap of(java.nio.IntBuffer pred, int[] label, int ignoreLabel, int classes, ClassGroups groups) {
        int ng = groups.groups().size();
        FrameOverlap o = new FrameOverlap(classes + ng);
        boolean[][] member = new boolean[ng][classes];
        for (int g = 0; g < ng; g++) for (int c : groups.groups().get(g).classes()) member[g][c] = true;
        int n = pred.limit();
        for (int i = 0; i < n; i++) {
            int l = label[i];
            if (l == ignoreLabel || l < 0 || l >= classes) continue;
            int p = pred.get(i);
            o.predicted[p]++;
            o.labelled[l]++;
            if (p == l) o.intersection[p]++;
            for (int g = 0; g < ng; g++) {
                boolean pg = member[g][p], lg = member[g][l];
                if (pg) o.predicted[classes + g]++;
                if (lg) o.labelled[classes + g]++;
                if (pg && lg) o.intersection[classes + g]++;
            }
        }
        return o;
    }

    /** True when entry i (class, or classes + group) occurs in the (non-ignored) label. */
    public boolean inLabel(int i) {
        return labelled[i] > 0;
    }

    /** IoU of entry i, NaN when it is in neither prediction nor label (over non-ignored pixels). */
    public double iou(int i) {
        long union = predicted[i] + labelled[i] - intersection[i];
        return union == 0 ? Double.NaN : (double) intersection[i] / union;
    }
}
