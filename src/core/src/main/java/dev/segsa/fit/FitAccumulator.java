package dev.segsa.fit;

import dev.segsa.error.SegsaException;
import dev.segsa.features.AxisInterpolation;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.FrameNormalizer;
import dev.segsa.features.PixelFormat;
import dev.segsa.kernel.Backend;
import dev.segsa.model.FrameOutput;
import dev.segsa.model.SegmentationModel;
import org.bytedeco.javacpp.PointerScope;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;

/**
 * Adds labelled frames to a {@link PartialFit} on the calling thread: turns the pixels into the
 * model's input, runs the model, accumulates the exact per-class moments of every labelled
 * pixel's activation trace through the backend, and offers the pixels to the reference sample
 * (a trace is computed only when its key would be kept). Owns its model runner and backend. Not
 * thread-safe: one per thread, merged with {@link PartialFit#merge}.
 */
public final class FitAccumulator implements AutoCloseable {
    private final SegmentationModel model;
    private final Backend backend;
    private final FrameNormalizer normalizer;
    private PartialFit fit;
    private AxisInterpolation rows;
    private AxisInterpolation cols;
    private double[] trace = new double[0];
    private boolean closed;

    public FitAccumulator(SegmentationModel model, Backend backend, PartialFit.Settings settings) {
        this.model = model;
        this.backend = backend;
        this.normalizer = new FrameNormalizer(settings.mean(), settings.std(), settings.resize());
        this.fit = new PartialFit(settings);
    }

    /** What this accumulator has gathered so far (its own object: keep adding, or hand it on). */
    public PartialFit partial() {
        return fit;
    }

    /** Starts afresh and returns what was gathered. */
    public PartialFit takePartial() {
        PartialFit out = fit;
        fit = new PartialFit(out.settings());
        return out;
    }

    /**
     * @param labels     true class ids at the image's size, row-major; the ignore label counts nowhere
     * @param labelsName names the labels in error messages (e.g. the mask file)
     */
    public void add(String frame, BufferedImage image, int[] labels, String labelsName) {
        FrameNormalizer.checkSize(image.getWidth(), image.getHeight(), frame);
        int w = normalizer.outputWidth(image.getWidth()), h = normalizer.outputHeight(image.getHeight());
        checkLabels(labels, image.getWidth(), image.getHeight(), labelsName);
        normalizer.fromImage(image, input(h, w), frame);
        run(frame, normalizer.resizeLabels(labels, image.getWidth(), image.getHeight()), h, w, labelsName);
    }

    /** Packed 8-bit pixels, HWC, rows {@code rowStride} bytes apart, with labels at the frame's size. */
    public void add(String frame, MemorySegment pixels, int width, int height, long rowStride, PixelFormat format, int[] labels,
                    String labelsName) {
        FrameNormalizer.checkSize(width, height, frame);
        int w = normalizer.outputWidth(width), h = normalizer.outputHeight(height);
        checkLabels(labels, width, height, labelsName);
        normalizer.fromPacked(pixels, width, height, rowStride, format, input(h, w), frame);
        run(frame, normalizer.resizeLabels(labels, width, height), h, w, labelsName);
    }

    /**
     * Adds a frame labelled by the model's own predictions: for a throwaway SA model that only
     * needs the right shapes (benchmarks), never for a real fit.
     */
    public void addSelfLabelled(String frame, BufferedImage image) {
        FrameNormalizer.checkSize(image.getWidth(), image.getHeight(), frame);
        int w = normalizer.outputWidth(image.getWidth()), h = normalizer.outputHeight(image.getHeight());
        normalizer.fromImage(image, input(h, w), frame);
        int[] predicted;
        try (PointerScope scope = new PointerScope()) {
            predicted = model.infer(h, w, frame, false).predictedArray();
        }
        normalizer.fromImage(image, input(h, w), frame);
        run(frame, predicted, h, w, frame + " (its predicted classes)");
    }

    /**
     * The activation-trace contract check ({@link ActivationTraceCheck}) on these frames: the
     * model's logits against the best linear per-pixel head on its upsampled features.
     */
    public ActivationTraceCheck.Result checkActivationTraces(java.util.List<BufferedImage> images, java.util.List<String> names,
                                                             int pixelsPerFrame, long seed) {
        ActivationTraceCheck check = null;
        for (int i = 0; i < images.size(); i++) {
            BufferedImage image = images.get(i);
            String frame = names.get(i);
            FrameNormalizer.checkSize(image.getWidth(), image.getHeight(), frame);
            int w = normalizer.outputWidth(image.getWidth()), h = normalizer.outputHeight(image.getHeight());
            normalizer.fromImage(image, input(h, w), frame);
            SegmentationModel.HostOutputs o = model.hostOutputs(h, w, frame);
            if (check == null) check = new ActivationTraceCheck(o.d(), o.classes(), images.size(), pixelsPerFrame, seed);
            check.add(o, fit.settings().upsample());
        }
        if (check == null) throw new SegsaException(SegsaException.Kind.OTHER, "activation-trace check: no frames");
        return check.result();
    }

    private static void checkLabels(int[] labels, int width, int height, String labelsName) {
        if (labels.length != width * height) {
            throw new SegsaException(SegsaException.Kind.FRAME, labelsName + ": " + labels.length + " labels for a " + width + "x"
                    + height + " frame");
        }
    }

    private MemorySegment input(int h, int w) {
        if (closed) throw new IllegalStateException("the fit is closed");
        return model.input(h, w);
    }

    private void run(String frame, int[] sourceLabels, int height, int width, String labelsName) {
        PartialFit.Settings s = fit.settings();
        try (PointerScope scope = new PointerScope()) {
            FrameOutput out = model.infer(height, width, frame, false);
            FeatureMap fm = out.features();
            fit.shape(out.classes(), fm.d(), frame);
            int classes = out.classes(), d = fm.d();
            int ignore = s.ignoreLabel();
            // a private copy: the caller's labels stay as they were
            int[] labels = sourceLabels.clone();
            for (int i = 0; i < labels.length; i++) {
                int c = labels[i];
                if (c == ignore) {
                    labels[i] = -1;
                } else if (c < 0 || c >= classes) {
                    throw new SegsaException(SegsaException.Kind.FRAME, labelsName + ": pixel (" + (i % width) + "," + (i / width)
                            + ") has label " + c + " but the model has " + classes + " classes (0.." + (classes - 1)
                            + ") and the ignore label is " + ignore);
                }
            }
            long bad = out.nonFiniteFeatures();
            if (bad > 0) {
                String note = frame + ": " + bad + " NaN/Inf feature values, frame skipped";
                fit.note(note);
                System.err.println("segsa fit: warning: " + note);
                return;
            }
            backend.accumulate(fm, s.upsample(), height, width, labels, fit.statistics());
            if (s.lsaReferences() > 0) sample(frame, fm, labels, height, width, d);
            fit.frameDone();
        }
    }

    private void sample(String frame, FeatureMap fm, int[] labels, int height, int width, int d) {
        PartialFit.Settings s = fit.settings();
        if (rows == null || rows.in != fm.h0() || rows.out != height || cols.in != fm.w0() || cols.out != width) {
            rows = AxisInterpolation.of(s.upsample(), fm.h0(), height);
            cols = AxisInterpolation.of(s.upsample(), fm.w0(), width);
        }
        if (trace.length != d) trace = new double[d];
        ReferenceSample[] samples = fit.samples();
        long frameHash = ReferenceSample.frameHash(frame);
        long seed = s.seed();
        for (int i = 0; i < labels.length; i++) {
            int c = labels[i];
            if (c < 0) continue;
            long key = ReferenceSample.key(seed, frameHash, i);
            ReferenceSample sample = samples[c];
            if (!sample.accepts(key, frameHash, i)) continue;
            fm.activationTrace(rows, cols, i / width, i % width, trace);
            sample.offer(key, frameHash, i, trace, 0);
        }
    }

    /** Closes the model runner and the backend (idempotent). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            model.close();
        } finally {
            backend.close();
        }
    }
}
