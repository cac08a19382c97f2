package dev.segsa.fit;

import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.SaModel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.AxisInterpolation;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.FrameReader;
import dev.segsa.model.FrameOutput;
import dev.segsa.model.ModelFiles;
import dev.segsa.model.ModelSettings;
import dev.segsa.model.SegmentationModel;
import dev.segsa.io.Progress;
import dev.segsa.kernel.Backend;
import org.bytedeco.javacpp.PointerScope;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code segsa fit}: one streaming pass over labelled training frames. Per class, the exact
 * count, mean and co-moment of the activation traces of ALL its labelled pixels (through the
 * backend), and a uniform random sample of up to {@code lsaReferences} traces (reservoir
 * sampling over the pixels in frame and raster order, seeded), so no pixel trace is stored
 * beyond the sample.
 */
public final class Fitter {
    private final SegmentationModel model;
    private final ModelSettings settings;
    private final Backend backend;
    private final int lsaReferences;
    private final long seed;

    public Fitter(SegmentationModel model, ModelSettings settings, Backend backend, int lsaReferences, long seed) {
        if (lsaReferences < 0) throw new IllegalArgumentException("--lsa-references must be >= 0, got " + lsaReferences);
        this.model = model;
        this.settings = settings;
        this.backend = backend;
        this.lsaReferences = lsaReferences;
        this.seed = seed;
    }

    public SaModel fit(Path imageDir, Path labelDir, Progress progress) {
        List<Path> frames = FrameReader.listFrames(imageDir);
        FrameReader reader = new FrameReader(settings.mean(), settings.std(), settings.resize());
        List<String> notes = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(seed);
        ClassStatistics[] stats = null;
        double[][] refs = null;
        int[] filled = null;
        long[] seen = null;
        int classes = -1, d = -1, used = 0;
        float[] input = null;
        AxisInterpolation rows = null, cols = null;
        double[] at = null;
        for (Path frame : frames) {
            Path labelFile = FrameReader.labelFor(frame, labelDir);
            FrameReader.Frame f = reader.readFrame(frame, input);
            input = f.chw();
            int[] labels = reader.readLabels(labelFile, frame, f.sourceWidth(), f.sourceHeight(), f.width(), f.height());
            try (PointerScope scope = new PointerScope()) {
                FrameOutput out = model.infer(f.chw(), f.height(), f.width(), frame.getFileName().toString());
                FeatureMap fm = out.features();
                if (classes < 0) {
                    classes = out.classes();
                    d = fm.d();
                    stats = new ClassStatistics[classes];
                    for (int c = 0; c < classes; c++) stats[c] = new ClassStatistics(d);
                    refs = new double[classes][];
                    filled = new int[classes];
                    seen = new long[classes];
                    at = new double[d];
                } else if (out.classes() != classes || fm.d() != d) {
                    throw new SegsaException(frame + ": model returned " + out.classes() + " classes and " + fm.d()
                            + " features, earlier frames gave " + classes + " and " + d);
                }
                int ignore = settings.ignoreLabel();
                for (int i = 0; i < labels.length; i++) {
                    int c = labels[i];
                    if (c == ignore) {
                        labels[i] = -1;
                    } else if (c >= classes) {
                        throw new SegsaException(labelFile + ": pixel (" + (i % f.width()) + "," + (i / f.width()) + ") has label "
                                + c + " but the model has " + classes + " classes (0.." + (classes - 1) + ") and the ignore label is " + ignore);
                    }
                }
                long bad = fm.countNonFinite();
                if (bad > 0) {
                    notes.add(frame.getFileName() + ": " + bad + " NaN/Inf feature values, frame skipped");
                    System.err.println("segsa fit: warning: " + notes.getLast());
                    progress.step();
                    continue;
                }
                backend.accumulate(fm, settings.upsample(), f.height(), f.width(), labels, stats);
                if (lsaReferences > 0) {
                    if (rows == null || rows.in != fm.h0() || rows.out != f.height() || cols.in != fm.w0() || cols.out != f.width()) {
                        rows = AxisInterpolation.of(settings.upsample(), fm.h0(), f.height());
                        cols = AxisInterpolation.of(settings.upsample(), fm.w0(), f.width());
                    }
                    for (int i = 0; i < labels.length; i++) {
                        int c = labels[i];
                        if (c < 0) continue;
                        long k = seen[c]++;
                        int slot;
                        if (filled[c] < lsaReferences) {
                            slot = filled[c]++;
                            if (refs[c] == null || refs[c].length < filled[c] * d) {
                                int cap = (int) Math.min(lsaReferences, Math.max(1024, 2L * filled[c]));
                                double[] grown = new double[cap * d];
                                if (refs[c] != null) System.arraycopy(refs[c], 0, grown, 0, refs[c].length);
                                refs[c] = grown;
                            }
                        } else {
                            long j = rng.nextLong(k + 1);
                            if (j >= lsaReferences) continue;
                            slot = (int) j;
                        }
                        fm.activationTrace(rows, cols, i / f.width(), i % f.width(), at);
                        System.arraycopy(at, 0, refs[c], slot * d, d);
                    }
                }
                used++;
            }
            progress.step();
        }
        if (used == 0) {
            throw new SegsaException(imageDir + ": no usable training frame: " + String.join("; ", notes));
        }
        if (lsaReferences > 0) {
            for (int c = 0; c < classes; c++) {
                if (refs[c] != null && refs[c].length != filled[c] * d) refs[c] = java.util.Arrays.copyOf(refs[c], filled[c] * d);
            }
        }
        List<String> names = settings.classNamesFor(classes);
        SaModel.FitSettings fs = new SaModel.FitSettings(model.path().getFileName().toString(), ModelFiles.sha256(model.path()),
                settings.upsample(), settings.mean(), settings.std(), settings.resize(), settings.ignoreLabel(), names, d,
                lsaReferences, seed, used, notes);
        SaModel sa = new SaModel(fs, stats, lsaReferences > 0 ? refs : null);
        // derive the models now so that ridges and dropped features are reported with the fit
        List<String> modelNotes = new ArrayList<>();
        sa.mahalanobisModels(modelNotes);
        sa.kdeModels(modelNotes);
        notes.addAll(modelNotes);
        return sa;
    }
}
