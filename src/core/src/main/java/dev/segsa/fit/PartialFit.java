package dev.segsa.fit;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.SaModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a fit has gathered so far from some of the training frames: per class the exact count,
 * mean and co-moment of the activation traces of every labelled pixel, and the mergeable
 * reference sample ({@link ReferenceSample}). Two partial fits of disjoint frames merge exactly
 * ({@link #merge}: Chan et al. for the moments, the smallest keys for the sample), so a fit
 * split over threads, processes or cluster nodes and merged equals the one-pass fit (to
 * float64 rounding for the moments, identically for the references). {@link #finish} gives the
 * SA model. Not thread-safe; {@link #merge} leaves both operands unchanged.
 */
public final class PartialFit {
    /** What must agree for two partial fits to merge: the model and every setting of the fit. */
    public record Settings(String modelFile, String modelSha256, UpsampleMode upsample, double[] mean, double[] std,
                           int[] resize, int ignoreLabel, List<String> configuredClassNames, int lsaReferences, long seed) {
        public Settings {
            Objects.requireNonNull(modelSha256, "modelSha256");
            Objects.requireNonNull(upsample, "upsample");
            if (lsaReferences < 0) throw new IllegalArgumentException("--lsa-references must be >= 0, got " + lsaReferences);
        }

        boolean sameAs(Settings o) {
            return modelSha256.equals(o.modelSha256) && upsample == o.upsample && Arrays.equals(mean, o.mean)
                    && Arrays.equals(std, o.std) && Arrays.equals(resize, o.resize) && ignoreLabel == o.ignoreLabel
                    && Objects.equals(configuredClassNames, o.configuredClassNames) && lsaReferences == o.lsaReferences
                    && seed == o.seed;
        }

        List<String> classNamesFor(int classes) {
            List<String> out = new ArrayList<>(classes);
            for (int c = 0; c < classes; c++) {
                out.add(configuredClassNames != null && c < configuredClassNames.size() ? configuredClassNames.get(c)
                        : Integer.toString(c));
            }
            return out;
        }
    }

    private final Settings settings;
    private int classes = -1;
    private int d = -1;
    private ClassStatistics[] statistics;
    private ReferenceSample[] samples;
    private int frames;
    private final List<String> notes = new ArrayList<>();

    public PartialFit(Settings settings) {
        this.settings = Objects.requireNonNull(settings);
    }

    public Settings settings() {
        return settings;
    }

    /** Frames accumulated. */
    public int frames() {
        return frames;
    }

    /** -1 until the first frame. */
    public int classes() {
        return classes;
    }

    /** -1 until the first frame. */
    public int featureDimension() {
        return d;
    }

    /** Notes so far (frames skipped, and why). */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /** Sets the shape on the first frame, or checks it against earlier frames. */
    void shape(int classes, int d, String frame) {
        if (this.classes < 0) {
            this.classes = classes;
            this.d = d;
            statistics = new ClassStatistics[classes];
            samples = new ReferenceSample[classes];
            for (int c = 0; c < classes; c++) {
                statistics[c] = new ClassStatistics(d);
                samples[c] = new ReferenceSample(settings.lsaReferences(), d);
            }
        } else if (classes != this.classes || d != this.d) {
            throw new SegsaException(frame + ": model returned " + classes + " classes and " + d + " features, earlier frames gave "
                    + this.classes + " and " + this.d);
        }
    }

    ClassStatistics[] statistics() {
        return statistics;
    }

    ReferenceSample[] samples() {
        return samples;
    }

    void frameDone() {
        frames++;
    }

    void note(String note) {
        notes.add(note);
    }

    /** A new partial fit of both operands' frames (which must be disjoint). */
    public PartialFit merge(PartialFit other) {
        if (!settings.sameAs(other.settings)) {
            throw new SegsaException("cannot merge partial fits made with different models or settings (model sha256 "
                    + settings.modelSha256() + " vs " + other.settings.modelSha256() + ")");
        }
        if (classes >= 0 && other.classes >= 0 && (classes != other.classes || d != other.d)) {
            throw new SegsaException("cannot merge partial fits of " + classes + " classes x d=" + d + " and " + other.classes
                    + " classes x d=" + other.d);
        }
        PartialFit out = new PartialFit(settings);
        for (PartialFit p : List.of(this, other)) {
            if (p.classes < 0) {
                out.notes.addAll(p.notes);
                out.frames += p.frames;
                continue;
            }
            out.shape(p.classes, p.d, "merge");
            for (int c = 0; c < p.classes; c++) {
                out.statistics[c].merge(p.statistics[c]);
                out.samples[c].merge(p.samples[c]);
            }
            out.frames += p.frames;
            out.notes.addAll(p.notes);
        }
        return out;
    }

    /**
     * The SA model of the frames gathered; the models are derived once so that ridges and
     * dropped features are reported in its notes.
     *
     * @throws SegsaException when no frame was usable
     */
    public SaModel finish() {
        if (frames == 0 || classes < 0) {
            throw new SegsaException("no usable training frame" + (notes.isEmpty() ? "" : ": " + String.join("; ", notes)));
        }
        List<String> allNotes = new ArrayList<>(notes);
        double[][] refs = null;
        if (settings.lsaReferences() > 0) {
            refs = new double[classes][];
            for (int c = 0; c < classes; c++) refs[c] = samples[c].traces();
        }
        ClassStatistics[] stats = new ClassStatistics[classes];
        for (int c = 0; c < classes; c++) {
            stats[c] = new ClassStatistics(d);
            stats[c].merge(statistics[c]);
        }
        SaModel.FitSettings fs = new SaModel.FitSettings(settings.modelFile(), settings.modelSha256(), settings.upsample(),
                settings.mean(), settings.std(), settings.resize(), settings.ignoreLabel(), settings.classNamesFor(classes), d,
                settings.lsaReferences(), settings.seed(), frames, allNotes);
        SaModel sa = new SaModel(fs, stats, refs);
        List<String> modelNotes = new ArrayList<>();
        sa.mahalanobisModels(modelNotes);
        sa.kdeModels(modelNotes);
        allNotes.addAll(modelNotes);
        return sa;
    }
}
