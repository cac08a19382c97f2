package dev.segsa.score;

/**
 * How frames are scored.
 *
 * @param lsa             also compute LSA (needs references in the SA model)
 * @param uncertainty     also aggregate the softmax uncertainty baselines per class, like SA
 * @param saThreshold     MDSA threshold of {@link FrameResult#shareAboveThreshold()}; NaN for none
 * @param lsaBudgetNanos  per-frame time budget (decode + inference + SA); when LSA would push a frame
 *                        past it (predicted from the LSA time per pixel of earlier frames) the frame
 *                        gets MDSA only and says so; 0 for no budget
 * @param segments        also find the frame's segments (connected components of the predicted
 *                        classes) and all their features ({@link FrameResult#segments()})
 * @param risk            a risk model: each frame's risk from its segments (runs the segments pass,
 *                        with the class probabilities only when the model uses them), or null
 */
public record ScoringOptions(boolean lsa, boolean uncertainty, double saThreshold, long lsaBudgetNanos, boolean segments,
                             dev.segsa.risk.RiskModel risk) {
    public ScoringOptions(boolean lsa, boolean uncertainty, double saThreshold, long lsaBudgetNanos) {
        this(lsa, uncertainty, saThreshold, lsaBudgetNanos, false, null);
    }

    public static final ScoringOptions MDSA_ONLY = new ScoringOptions(false, false, Double.NaN, 0);

    /** Whether the segments pass runs (segments asked for, or a risk model). */
    public boolean segmentsPass() {
        return segments || risk != null;
    }

    /** Whether the logits pass writes the class probability planes (segments asked for, or a risk model that reads them). */
    public boolean probabilityMaps() {
        return segments || (risk != null && risk.withProbabilities());
    }

    public ScoringOptions {
        if (!Double.isNaN(saThreshold) && !(saThreshold >= 0 && saThreshold < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("SA threshold must be finite and >= 0, got " + saThreshold);
        }
        if (lsaBudgetNanos < 0) throw new IllegalArgumentException("LSA budget must be >= 0, got " + lsaBudgetNanos + " ns");
    }
}
