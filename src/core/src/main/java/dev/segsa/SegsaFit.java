package dev.segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import dev.segsa.fit.FitAccumulator;
import dev.segsa.fit.PartialFit;
import dev.segsa.kernel.Backend;
import dev.segsa.kernel.Backends;
import dev.segsa.model.ModelFiles;
import dev.segsa.model.ModelMetadata;
import dev.segsa.model.ModelSettings;
import dev.segsa.model.SegmentationModel;
import dev.segsa.samodel.SaModel;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The streaming fit, through the same front door: (frame, label) pairs in, an SA model out.
 *
 * <pre>{@code
 * try (SegsaFit fit = SegsaFit.builder(Path.of("camvid.pt")).lsaReferences(10_000).seed(0).open()) {
 *     for (...) fit.add(name, image, labels);          // labels: class ids at the image's size
 *     SaModel sa = fit.finish();                        // or fit.partial() to merge with others
 * }
 * }</pre>
 *
 * Per class it keeps the exact count, mean and co-moment of every labelled pixel's activation
 * trace and a uniform sample of up to {@code lsaReferences} traces whose membership depends only
 * on the seed, the frame names and the pixel positions. {@link PartialFit}s of disjoint frames
 * merge exactly ({@link PartialFit#merge}), so a fit split over threads or machines equals the
 * one-pass fit: moments to float64 rounding, references identically. Frame names must be unique
 * (they key the sample). Settings come from the model's metadata (archive or sidecar) under the
 * builder's overrides. One thread at a time; for parallel fitting use one {@code SegsaFit} per
 * thread and merge their partial fits. Every throwing method lists the {@link SegsaException} kinds
 * it throws, as {@link Segsa} does (its class comment, Error kinds).
 */
public final class SegsaFit implements AutoCloseable {
    private final FitAccumulator accumulator;
    private final String backendInUse;

    private SegsaFit(FitAccumulator accumulator, String backendInUse) {
        this.accumulator = accumulator;
        this.backendInUse = backendInUse;
    }

    /** A fit of {@code model}; the model file is read by {@link Builder#fitSettings()} and {@link Builder#open()}. */
    public static Builder builder(Path model) {
        return new Builder(model);
    }

    /** Options of a fit; every one has a default. */
    public static final class Builder {
        private final Path model;
        private ModelMetadata overrides = ModelMetadata.empty();
        private int lsaReferences = 10_000;
        private long seed;
        private String backend;
        private boolean trustModel;
        private int threads;

        private Builder(Path model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** Settings that override the model's metadata (null fields keep the metadata's). */
        public Builder settings(ModelMetadata overrides) {
            this.overrides = Objects.requireNonNull(overrides);
            return this;
        }

        /**
         * LSA reference traces kept per class (default 10000; 0 skips LSA).
         *
         * @throws IllegalArgumentException when {@code n} is negative
         */
        public Builder lsaReferences(int n) {
            if (n < 0) throw new IllegalArgumentException("lsaReferences must be >= 0 (segsa fit: --lsa-references), got " + n);
            this.lsaReferences = n;
            return this;
        }

        /** Seed of the reference sample (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * SA kernels, as {@code Segsa.Builder#backend}; an unknown name fails at {@link #open()} (kind OTHER), a backend
         * that cannot start there too (kind NATIVE).
         */
        public Builder backend(String name) {
            this.backend = name;
            return this;
        }

        /**
         * Threads of inference and of the accumulation kernels, process-wide (0: all cores); results do not depend on it.
         *
         * @throws IllegalArgumentException when {@code n} is negative
         */
        public Builder threads(int n) {
            if (n < 0) throw new IllegalArgumentException("threads must be >= 0, got " + n);
            this.threads = n;
            return this;
        }

        /**
         * Run the model without inspecting its TorchScript code first (see {@code Segsa.Builder#trustModel}); without
         * it a model that touches files is refused by {@link #open()} (kind MODEL).
         */
        public Builder trustModel(boolean trust) {
            this.trustModel = trust;
            return this;
        }

        /**
         * The settings a fit of this model would use, and the model's hash: what {@link PartialFit}s must share.
         *
         * @throws SegsaException           of kind {@link SegsaException.Kind#MODEL} when the model file is missing or
         *                                  unreadable, or its metadata (archive entry or sidecar) is invalid
         * @throws IllegalArgumentException when the settings (overrides over the metadata) are out of range: a std
         *                                  that is not positive, a resize outside 1..16384 per side or above the
         *                                  pixel limit
         */
        public PartialFit.Settings fitSettings() {
            ModelSettings s = ModelSettings.resolve(overrides, ModelMetadata.read(model));
            return new PartialFit.Settings(model.getFileName().toString(), ModelFiles.sha256(model), s.upsample(), s.mean(),
                    s.std(), s.resize(), s.ignoreLabel(), s.classNames(), lsaReferences, seed);
        }

        /**
         * Opens the fit: reads the settings, loads the model, starts the backend.
         *
         * @throws SegsaException           of kind {@link SegsaException.Kind#MODEL} when the model file is missing or
         *                                  unreadable, its metadata is invalid, it is not a TorchScript model or is
         *                                  refused by the inspection (see {@link #trustModel});
         *                                  {@link SegsaException.Kind#NATIVE} when LibTorch does not load or the
         *                                  backend asked for cannot start; {@link SegsaException.Kind#OTHER} for an
         *                                  unknown backend name
         * @throws IllegalArgumentException as {@link #fitSettings()}
         */
        public SegsaFit open() {
            PartialFit.Settings settings = fitSettings();
            Segsa.applyThreads(threads);
            SegmentationModel m = SegmentationModel.load(model, settings.upsample(), trustModel);
            Backend b;
            try {
                b = Backends.select(backend);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            return new SegsaFit(new FitAccumulator(m, b, settings), b.name());
        }
    }

    /**
     * Adds a labelled frame.
     *
     * @param frame  the frame's unique name (e.g. its file name)
     * @param labels true class ids, row-major at the image's size; the ignore label counts nowhere
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} when the frame cannot be used (size outside
     *                        1..16384 per side, labels that are not width * height ids of the model's classes
     *                        or the ignore label, a name that is null or was added before);
     *                        {@link SegsaException.Kind#MODEL} when the model's forward raises, its output breaks
     *                        the contract, or it gives other classes or feature dimension than on earlier frames;
     *                        {@link SegsaException.Kind#NATIVE} when a kernel fails;
     *                        {@link SegsaException.Kind#STOPPED} when a stop was requested
     * @throws IllegalStateException after {@link #close()}
     */
    public void add(String frame, BufferedImage image, int[] labels) {
        checkNew(frame);
        accumulator.add(frame, image, labels, frame);
        frameNames.add(frame);
    }

    /** As {@link #add(String, BufferedImage, int[])}; {@code labelsName} names the labels in error messages; throws as it does. */
    public void add(String frame, BufferedImage image, int[] labels, String labelsName) {
        checkNew(frame);
        accumulator.add(frame, image, labels, labelsName);
        frameNames.add(frame);
    }

    /**
     * Adds a frame labelled with the model's own predicted classes: a throwaway SA model for benchmarks, not a real fit.
     * Throws as {@link #add(String, BufferedImage, int[])}.
     */
    public void addSelfLabelled(String frame, BufferedImage image) {
        checkNew(frame);
        accumulator.addSelfLabelled(frame, image);
        frameNames.add(frame);
    }

    /**
     * Adds a frame of packed 8-bit pixels (HWC, rows {@code rowStride} bytes apart), read in place.
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} when the frame cannot be used (size outside
     *                        1..16384 per side, a buffer shorter than the frame or a stride too small, labels
     *                        that are not width * height ids of the model's classes or the ignore label, a name
     *                        that is null or was added before);
     *                        {@link SegsaException.Kind#MODEL} when the model's forward raises, its output breaks
     *                        the contract, or it gives other classes or feature dimension than on earlier frames;
     *                        {@link SegsaException.Kind#NATIVE} when a kernel fails;
     *                        {@link SegsaException.Kind#STOPPED} when a stop was requested
     * @throws IllegalStateException after {@link #close()}
     */
    public void add(String frame, MemorySegment pixels, int width, int height, long rowStride, PixelFormat format, int[] labels) {
        checkNew(frame);
        accumulator.add(frame, pixels, width, height, rowStride, format, labels, frame);
        frameNames.add(frame);
    }

    /**
     * Frame names added since the fit (or its last {@link #takePartial()}) began: a frame added twice
     * would count its pixels twice (and key the LSA sample twice).
     */
    private final java.util.Set<String> frameNames = new java.util.HashSet<>();

    /**
     * Refuses a frame name added before, with a SegsaException naming it (the choice stated in the
     * README: counting a frame twice silently would weigh it double in every class's statistics).
     */
    private void checkNew(String frame) {
        dev.segsa.io.StopRequest.check();
        if (frame == null) throw new SegsaException(SegsaException.Kind.FRAME, "a frame needs a name");
        if (frameNames.contains(frame)) {
            throw new SegsaException(SegsaException.Kind.FRAME, "frame '" + frame + "' was added to this fit before: frame names "
                    + "must be unique (a frame added twice would count twice)");
        }
    }

    /**
     * Adds every frame of a folder with its mask from {@code labelDir} (same file name, or the
     * name with .png), decoding up to {@code ahead} frames ahead on a background thread.
     *
     * @param skipBadFrames go on past a frame that cannot be read or fitted (listed in the result)
     * @param onFrame       called after each frame, skipped ones too (e.g. progress)
     * @return the frames skipped, with their reasons
     * @throws SegsaException of kind {@link SegsaException.Kind#OTHER} when {@code imageDir} is not a folder or
     *                        holds no image, {@link SegsaException.Kind#FRAME} when it cannot be listed; without
     *                        {@code skipBadFrames} also {@link SegsaException.Kind#FRAME} for an image or mask that
     *                        cannot be read, and the kinds of {@link #add(String, BufferedImage, int[])};
     *                        {@link SegsaException.Kind#STOPPED} when a stop was requested, with or without it
     * @throws IllegalArgumentException when {@code ahead} is negative
     */
    public List<Segsa.SkippedFrame> addFolder(Path imageDir, Path labelDir, int ahead, boolean skipBadFrames, Runnable onFrame) {
        List<Segsa.SkippedFrame> skipped = new ArrayList<>();
        try (FrameFiles files = FrameFiles.open(imageDir, labelDir, ahead, skipBadFrames)) {
            for (FrameFiles.Decoded f : files) {
                if (f.failed()) {
                    skipped.add(new Segsa.SkippedFrame(f.name(), f.error().getMessage()));
                } else {
                    try {
                        add(f.name(), f.image(), f.labels(), f.labelFile().toString());
                    } catch (SegsaException e) {
                        if (!skipBadFrames || e instanceof dev.segsa.io.StopRequest.Stopped) throw e;
                        skipped.add(new Segsa.SkippedFrame(f.name(), e.getMessage()));
                    }
                }
                onFrame.run();
            }
        }
        return List.copyOf(skipped);
    }

    /** {@link #addFolder(Path, Path, int, boolean, Runnable)} stopping at the first error; throws as it does. */
    public void addFolder(Path imageDir, Path labelDir, int ahead, Runnable onFrame) {
        addFolder(imageDir, labelDir, ahead, false, onFrame);
    }

    /** What has been gathered so far; merge it with others' and {@link PartialFit#finish()} it. */
    public PartialFit partial() {
        return accumulator.partial();
    }

    /**
     * What has been gathered since the last call, and starts afresh with the model still loaded:
     * one partial fit per batch of frames (e.g. per Spark partition) from one engine.
     */
    public PartialFit takePartial() {
        frameNames.clear();  // the next partial fit starts afresh: its frames are new to it
        return accumulator.takePartial();
    }

    /**
     * Checks the model's activation-trace contract on these frames (the logits against the best
     * linear per-pixel head on the upsampled features; {@link dev.segsa.fit.ActivationTraceCheck}).
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} for an image that cannot be used,
     *                        {@link SegsaException.Kind#MODEL} when the forward raises or breaks the contract,
     *                        {@link SegsaException.Kind#OTHER} when there are no frames
     * @throws IllegalStateException after {@link #close()}
     */
    public dev.segsa.fit.ActivationTraceCheck.Result checkActivationTraces(List<BufferedImage> images, List<String> names,
                                                                           int pixelsPerFrame, long seed) {
        return accumulator.checkActivationTraces(images, names, pixelsPerFrame, seed);
    }

    /**
     * The SA model of every frame added.
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#OTHER} when no usable frame was added
     */
    public SaModel finish() {
        return accumulator.partial().finish();
    }

    public String backend() {
        return backendInUse;
    }

    @Override
    public void close() {
        accumulator.close();
    }
}
