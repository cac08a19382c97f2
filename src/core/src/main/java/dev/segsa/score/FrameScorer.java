package dev.segsa.score;

import dev.segsa.error.SegsaException;
import dev.segsa.segments.NativeSegments;
import dev.segsa.features.FrameNormalizer;
import dev.segsa.features.PixelFormat;
import dev.segsa.kernel.Backend;
import dev.segsa.kernel.DeviceBackend;
import dev.segsa.kernel.FrameScores;
import dev.segsa.model.FrameOutput;
import dev.segsa.model.SegmentationModel;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.SaModel;
import org.bytedeco.javacpp.PointerScope;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Scores one frame at a time on the calling thread: turns the pixels into the model's input,
 * runs the model, then every pixel's MDSA (and LSA when enabled) against the model of its
 * predicted class, and summarises them per class. Owns its model runner and backend and reuses
 * every per-frame buffer, so steady-state scoring allocates only the result's small per-class
 * arrays (and what LibTorch's Java wrappers allocate). Not thread-safe: one per thread; the
 * engine ({@code dev.segsa.Segsa}) keeps one per scoring thread.
 */
public final class FrameScorer implements AutoCloseable {
    private static final double LSA_RATE_SMOOTHING = 0.3;

    private final SegmentationModel model;
    private final SaModel sa;
    private final Backend backend;
    private final ScoringOptions options;
    private final MahalanobisModel[] mdsaModels;
    private final KdeModel[] lsaModels;
    private final FrameScores mdsaScores;
    private final FrameScores lsaScores;
    private final FrameNormalizer normalizer;
    /** Per-class max / p95 / share of the MDSA map, in native code (ClassPixelStatistics is its Java reference). */
    private final NativeClassStatistics pixelStatistics = new NativeClassStatistics();
    private final List<String> classNames;
    private final StageLatency latency = new StageLatency();
    private float[] viewedMap;
    private FloatBuffer mapView;
    private MemorySegment viewedPredicted;
    private IntBuffer predictedView;
    /** Smoothed LSA nanoseconds per scored pixel of earlier frames; 0 before the first. */
    private double lsaNanosPerPixel;
    /** Nanoseconds of the current frame's LSA kernel (0: none), for its stage times. */
    private long frameLsaNanos;
    private int[] devicePredicted;
    private boolean closed;
    /** Segments of a frame (with {@link ScoringOptions#segments()}): the native pass, its heat maps, the risk. */
    private final NativeSegments segments;
    private final dev.segsa.nativelib.NativeBuffer heatMaps = new dev.segsa.nativelib.NativeBuffer();
    private final dev.segsa.risk.FrameRisk frameRisk;
    private double[] riskRows = new double[0];
    private MemorySegment lastPredicted;

    /**
     * @param notes receives model-derivation notes (dropped features, ridges, unfitted classes)
     */
    public FrameScorer(SegmentationModel model, SaModel sa, Backend backend, ScoringOptions options, List<String> notes) {
        this.model = model;
        this.sa = sa;
        this.backend = backend;
        this.options = options;
        this.mdsaModels = sa.mahalanobisModels(notes);
        if (options.lsa() && sa.references() == null) {
            throw new SegsaException(SegsaException.Kind.SA_FILE, "LSA was asked for (Segsa.Builder.lsa(true); segsa: --lsa) but the "
                    + "SA model was fitted without LSA references (SegsaFit.Builder.lsaReferences(0); segsa fit: --lsa-references 0): "
                    + "refit with references, or score without LSA");
        }
        this.lsaModels = options.lsa() ? sa.kdeModels(notes) : null;
        this.mdsaScores = new FrameScores(sa.classes());
        this.lsaScores = new FrameScores(sa.classes());
        SaModel.FitSettings s = sa.settings();
        this.normalizer = new FrameNormalizer(s.mean(), s.std(), s.resize());
        this.classNames = List.copyOf(s.classNames());
        if (options.segmentsPass() && backend instanceof DeviceBackend) {
            throw new SegsaException(SegsaException.Kind.OTHER, "segments and frame risk (Segsa.Builder.segments, riskModel) run on "
                    + "the CPU path; the " + backend.name() + " backend has no segment pass yet: use "
                    + "Segsa.Builder.backend(\"native-cpu\") (segsa: --backend native-cpu)");
        }
        this.segments = options.segmentsPass() ? new NativeSegments() : null;
        this.frameRisk = options.risk() == null ? null : new dev.segsa.risk.FrameRisk(options.risk());
        if (backend instanceof DeviceBackend db && !db.torchDevice().equals(model.deviceName())) {
            model.moveTo(db.torchDevice());
            notes.add("scoring on " + db.describe());
        }
    }

    public int classes() {
        return sa.classes();
    }

    public SaModel saModel() {
        return sa;
    }

    public String backendName() {
        return backend.name();
    }

    /** Where the model and the SA kernels run: "cpu", or the device backend's description. */
    public String device() {
        return backend instanceof DeviceBackend db ? db.describe() : "cpu";
    }

    /** The model runner's report of its --optimize-model check (null when none ran). */
    public String modelReport() {
        return model.optimizationReport();
    }

    /** This scorer's latency histograms (every frame it scored). */
    public StageLatency latency() {
        return latency;
    }

    /** Output size {width, height} of a frame of the given size. */
    public int[] outputSize(int width, int height) {
        return normalizer.outputSize(width, height);
    }

    /** Label ids at the frame's size resized (nearest) to the output size, as scoring sees them. */
    public int[] labelsAtOutputSize(int[] labels, int width, int height) {
        return normalizer.resizeLabels(labels, width, height);
    }

    public FrameResult score(BufferedImage image, String name) {
        long t0 = System.nanoTime();
        FrameNormalizer.checkSize(image.getWidth(), image.getHeight(), name);
        FrameNormalizer.checkPixels(image.getWidth(), image.getHeight(), name);
        int w = normalizer.outputWidth(image.getWidth()), h = normalizer.outputHeight(image.getHeight());
        normalizer.fromImage(image, input(h, w), name);
        return run(name, h, w, t0);
    }

    /** Packed 8-bit pixels, HWC, rows {@code rowStride} bytes apart; read in place. */
    public FrameResult score(MemorySegment pixels, int width, int height, long rowStride, PixelFormat format, String name) {
        long t0 = System.nanoTime();
        FrameNormalizer.checkPacked(pixels, width, height, rowStride, format, name);  // before the model input is allocated
        int w = normalizer.outputWidth(width), h = normalizer.outputHeight(height);
        normalizer.fromPacked(pixels, width, height, rowStride, format, input(h, w), name);
        return run(name, h, w, t0);
    }

    /** Already normalised float32 [3, height, width] at the model input size. */
    public FrameResult scoreNormalized(MemorySegment chw, int width, int height, String name) {
        long t0 = System.nanoTime();
        FrameNormalizer.checkSize(width, height, name);
        FrameNormalizer.checkPixels(width, height, name);
        long need = 3L * width * height * Float.BYTES;
        if (chw.byteSize() < need) {
            throw new SegsaException(SegsaException.Kind.FRAME, name + ": normalised buffer holds " + chw.byteSize() + " bytes, a "
                    + width + "x" + height + " frame needs " + need);
        }
        normalizer.fromNormalized(chw, width, height, input(height, width), name);
        return run(name, height, width, t0);
    }

    private MemorySegment input(int h, int w) {
        if (closed) throw new IllegalStateException("the scorer is closed");
        return model.input(h, w);
    }

    private FrameResult run(String name, int height, int width, long t0) {
        if (backend instanceof DeviceBackend db) return runOnDevice(db, name, height, width, t0);
        try (PointerScope scope = new PointerScope()) {
            long t1 = System.nanoTime();
            FrameOutput out = model.infer(height, width, name, options.uncertainty(), options.segmentsPass(), options.probabilityMaps());
            long t2 = System.nanoTime();
            checkShape(name, out.classes(), out.features().d());
            int n = height * width;
            mdsaScores.reset(n);
            if (out.nonFiniteFeatures() == 0 && out.nonFiniteLogits() == 0) {
                backend.mdsa(out.features(), sa.settings().upsample(), height, width, out.predicted(), mdsaModels, mdsaScores);
            }
            return result(name, width, height, out.predicted(), out.classPixels(), out, out.uncertainty(), out.nonFiniteFeatures(),
                    out.nonFiniteLogits(), t0, t1, t1 + model.lastForwardNanos(), t2);
        }
    }

    /**
     * The device path: the model's features and predicted classes stay on the device, the SA
     * kernels run there on the model's stream, and what comes back is the per-class counts and
     * sums, the per-pixel MDSA map and predicted classes (FrameResult carries them), and the
     * non-finite counts, all after the kernels. LSA's time budget is not applied here.
     */
    private FrameResult runOnDevice(DeviceBackend db, String name, int height, int width, long t0) {
        try (PointerScope scope = new PointerScope()) {
            long t1 = System.nanoTime();
            SegmentationModel.DeviceOutput out = model.inferOnDevice(height, width, name, options.uncertainty());
            long t2 = System.nanoTime();
            checkShape(name, out.classes(), out.d());
            int n = height * width;
            DeviceBackend.Frames frames = new DeviceBackend.Frames(out.featuresAddress(), out.predictedAddress(), 1, out.d(),
                    out.h0(), out.w0(), height, width, sa.settings().upsample());
            mdsaScores.reset(n);
            db.mdsaDevice(frames, mdsaModels, new FrameScores[] {mdsaScores});
            if (lsaModels != null) {
                long l0 = System.nanoTime();
                lsaScores.reset(0);
                db.lsaDevice(frames, lsaModels, new FrameScores[] {lsaScores});
                frameLsaNanos = System.nanoTime() - l0;
            }
            long bad = out.nonFiniteFeatures().item_long();
            long badLogits = out.nonFiniteLogits().item_long();
            MemorySegment predicted = devicePredicted(out.predicted(), n);
            long[] pixels = new long[sa.classes()];
            for (int i = 0; i < n; i++) pixels[predicted.getAtIndex(ValueLayout.JAVA_INT, i)]++;
            return result(name, width, height, predicted, pixels, null, out.uncertainty(), bad, badLogits, t0, t1,
                    t1 + model.lastForwardNanos(), t2);
        }
    }

    private void checkShape(String name, int classes, int d) {
        if (classes != sa.classes() || d != sa.settings().featureDimension()) {
            throw new SegsaException(SegsaException.Kind.SA_FILE, name + ": model returned " + classes + " classes and " + d
                    + " features, the SA model was fitted with " + sa.classes() + " and " + sa.settings().featureDimension()
                    + " (a mismatch allowed by Segsa.Builder.allowModelMismatch(true) needs the same shapes)");
        }
    }

    /** LSA on the host features into {@link #lsaScores}, unless the frame's time budget would be passed. */
    private FrameResult.LsaState hostLsa(FrameOutput out, int height, int width, MemorySegment predicted, long t0) {
        long scored = 0;
        for (long p : mdsaScores.pixels()) scored += p;
        long elapsed = System.nanoTime() - t0;
        if (options.lsaBudgetNanos() > 0 && lsaNanosPerPixel > 0 && elapsed + lsaNanosPerPixel * scored > options.lsaBudgetNanos()) {
            return FrameResult.LsaState.SKIPPED_FOR_BUDGET;
        }
        long l0 = System.nanoTime();
        lsaScores.reset(0);
        backend.lsa(out.features(), sa.settings().upsample(), height, width, predicted, lsaModels, lsaScores);
        frameLsaNanos = System.nanoTime() - l0;
        if (scored > 0) {
            double rate = (double) frameLsaNanos / scored;
            lsaNanosPerPixel = lsaNanosPerPixel == 0 ? rate : (1 - LSA_RATE_SMOOTHING) * lsaNanosPerPixel + LSA_RATE_SMOOTHING * rate;
        }
        return FrameResult.LsaState.COMPUTED;
    }

    /**
     * A frame's result from its predicted classes and its MDSA map (already in {@link #mdsaScores}
     * when the features and logits are finite): pixel counts, MDSA mean / max / p95 / share above
     * the threshold, uncertainty means, LSA (when asked for and finite: run here on the host
     * features {@code hostOutput}, or, from the device path ({@code hostOutput} null), already in
     * {@link #lsaScores}), stage times (t0 start, t1 forward starts, tf forward ends, t2 post-forward
     * pass ends). Non-finite features or logits give a NaN map and no scores.
     */
    private FrameResult result(String name, int width, int height, MemorySegment predicted, long[] pixels, FrameOutput hostOutput,
                               FrameOutput.SoftmaxUncertainty u, long bad, long badLogits, long t0, long t1, long tf, long t2) {
        int classes = sa.classes();
        int n = height * width;
        double[] mean = nanArray(classes), max = nanArray(classes), p95 = nanArray(classes);
        double[] share = Double.isNaN(options.saThreshold()) ? null : nanArray(classes);
        double[][] uncertainty = u == null ? null : u.measures();
        FrameResult.LsaState lsaState = options.lsa() ? FrameResult.LsaState.COMPUTED : FrameResult.LsaState.NOT_ASKED;
        double[] lsa = null;
        float[] map = mdsaScores.map();
        if (bad > 0 || badLogits > 0) {
            Arrays.fill(map, 0, n, Float.NaN);
            if (options.lsa()) lsaState = FrameResult.LsaState.SKIPPED_NON_FINITE;
        } else {
            for (int c = 0; c < classes; c++) mean[c] = mdsaScores.mean(c);
            pixelStatistics.compute(map, predicted, n, classes, max, p95, options.saThreshold(), share);
            if (lsaModels != null) {
                lsaState = hostOutput == null ? FrameResult.LsaState.COMPUTED : hostLsa(hostOutput, height, width, predicted, t0);
                if (lsaState == FrameResult.LsaState.COMPUTED) {
                    lsa = new double[classes];
                    for (int c = 0; c < classes; c++) lsa[c] = lsaScores.mean(c);
                }
            }
        }
        FrameSegments frameSegments = null;
        if (segments != null && bad == 0 && badLogits == 0 && hostOutput != null) {
            frameSegments = segments(map, predicted, hostOutput, height, width);
        }
        long t3 = System.nanoTime();
        long lsaNanos = lsaState == FrameResult.LsaState.COMPUTED ? Math.min(frameLsaNanos, t3 - t2) : 0;
        frameLsaNanos = 0;
        FrameResult.StageTimes times = new FrameResult.StageTimes(t1 - t0, tf - t1, t2 - tf, t3 - t2 - lsaNanos, lsaNanos);
        latency.record(times);
        return new FrameResult(name, width, height, classNames, pixels, mean, max, p95, options.saThreshold(), share,
                lsaState, lsa, uncertainty, bad, badLogits, times, mapView(map, n), predictedView(predicted, n), sa.frameReference(), frameSegments);
    }

    /**
     * The frame's segments in native code: heat maps MDSA, entropy, margin (copied side by side into
     * one reused buffer) and the class probabilities of the logits pass; then, with a risk model, the
     * frame's risk. Allocates only the per-class risk array (like the other per-class results).
     */
    private FrameSegments segments(float[] map, MemorySegment predicted, FrameOutput out, int height, int width) {
        int n = height * width;
        long plane = 4L * n;
        MemorySegment heat = heatMaps.ensure(3 * plane);
        MemorySegment.copy(MemorySegment.ofArray(map), 0, heat, 0, plane);
        MemorySegment.copy(out.entropyMap(), 0, heat, plane, plane);
        MemorySegment.copy(out.marginMap(), 0, heat, 2 * plane, plane);
        MemorySegment probabilities = out.probabilities() == null ? MemorySegment.NULL : out.probabilities();
        int count = segments.computeInPlace(predicted, height, width, sa.classes(), heat, 3, probabilities, MemorySegment.NULL);
        lastPredicted = predicted;
        int columns = segments.columns();
        if (frameRisk == null) return new FrameSegments(count, columns, segments.rows(), Double.NaN, Double.NaN, null);
        int values = count * columns;
        if (riskRows.length < values) riskRows = new double[Math.max(values, riskRows.length * 3 / 2)];
        MemorySegment.copy(segments.rows(), ValueLayout.JAVA_DOUBLE, 0, riskRows, 0, values);
        frameRisk.compute(riskRows, count, n);
        double[] classRisk = new double[sa.classes()];
        for (int c = 0; c < classRisk.length; c++) classRisk[c] = 1 - frameRisk.classIou(c);
        return new FrameSegments(count, columns, segments.rows(), frameRisk.risk(), frameRisk.failedArea(), classRisk);
    }

    /**
     * The IoU_adj of every segment of the last frame scored here against its labels (at the output
     * size): for the lab, where labels come with the frame after scoring.
     */
    public double[] segmentIouAdj(int[] labels) {
        if (segments == null || lastPredicted == null) throw new IllegalStateException("no segments were computed (enable segments)");
        double[] iou = new double[segments.count()];
        segments.iouAdj(lastPredicted, labels, iou);
        return iou;
    }

    private MemorySegment devicePredicted(org.bytedeco.pytorch.Tensor predicted, int n) {
        org.bytedeco.pytorch.Tensor host = predicted.cpu();
        if (devicePredicted == null || devicePredicted.length != n) devicePredicted = new int[n];
        MemorySegment.copy(MemorySegment.ofAddress(host.data_ptr().address()).reinterpret(4L * n),
                ValueLayout.JAVA_INT_UNALIGNED, 0, devicePredicted, 0, n);
        return MemorySegment.ofArray(devicePredicted);
    }

    private FloatBuffer mapView(float[] map, int n) {
        if (map != viewedMap || mapView.capacity() != n) {
            viewedMap = map;
            mapView = FloatBuffer.wrap(map, 0, n).slice().asReadOnlyBuffer();
        }
        return mapView;
    }

    private IntBuffer predictedView(MemorySegment predicted, int n) {
        if (!predicted.equals(viewedPredicted) || predictedView.capacity() != n) {
            viewedPredicted = predicted;
            predictedView = predicted.isNative()
                    ? predicted.asSlice(0, 4L * n).asByteBuffer().order(ByteOrder.nativeOrder()).asIntBuffer().asReadOnlyBuffer()
                    : IntBuffer.wrap(devicePredicted, 0, n).slice().asReadOnlyBuffer();
        }
        return predictedView;
    }

    private static double[] nanArray(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }

    /** Closes the model runner and the backend (idempotent). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            model.close();
        } finally {
            pixelStatistics.close();
            if (segments != null) segments.close();
            heatMaps.close();
            backend.close();
        }
    }
}
