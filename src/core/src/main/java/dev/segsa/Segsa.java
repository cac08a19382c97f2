package dev.segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import dev.segsa.kernel.Backend;
import dev.segsa.kernel.Backends;
import dev.segsa.model.ModelFiles;
import dev.segsa.model.SegmentationModel;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import dev.segsa.score.FrameScorer;
import dev.segsa.score.ScoringOptions;
import dev.segsa.score.StageLatency;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * segsa's front door: a TorchScript segmentation model with its fitted SA model, scoring frames.
 *
 * <pre>{@code
 * try (Segsa segsa = Segsa.builder(Path.of("camvid.pt"), Path.of("camvid.sa")).lsa(true).open()) {
 *     FrameResult r = segsa.score(image, "frame-000123");
 *     double carSa = r.mdsaMean()[8];
 * }
 * }</pre>
 *
 * <p>Opening checks that the model file is the one the SA model was fitted with (SHA-256),
 * chooses the SA backend ({@code auto}: the native CPU kernels when they load, else the Java
 * reference) and takes normalisation, resize, upsample mode, class names and ignore label from
 * the SA model file. Frames come as a {@link BufferedImage}, as packed 8-bit RGB/BGR(A) pixels
 * in a {@link MemorySegment} or {@link ByteBuffer} (HWC with a row stride, read in place), or as
 * normalised float CHW.
 *
 * <p><b>Threads.</b> An engine is safe to share: any number of threads may score at once. Each
 * thread scores with a scorer (model runner, backend and buffers) of its own while it lives,
 * so results do not depend on how many threads score (tested byte for byte). A result's
 * per-pixel views ({@link FrameResult#mdsaMap()}) stay valid until the same thread scores its
 * next frame or ends, and until {@link #close()}: a task that hands a result to another thread
 * (a Future, a queue) hands {@link FrameResult#copyMdsaMap()} if the maps are wanted after the
 * task's thread has ended (its scorer then serves the next thread; the per-class values are
 * copies and always stay valid). Scorers are pooled: when a thread that scored has
 * ended (an executor replacing threads, virtual threads, a thread per request), its scorer goes
 * to the next new thread, and at most {@value #SPARE_SCORERS} unused ones are kept: the engine
 * holds at most one scorer per live thread that has scored, plus {@value #SPARE_SCORERS}.
 *
 * <p><b>Failures.</b> A frame that fails validation ({@link SegsaException},
 * {@link IllegalArgumentException}) leaves its scorer as it was. Any other failure while scoring
 * (an {@link OutOfMemoryError}, an unexpected exception) discards that thread's scorer: the next
 * frame gets a fresh one and scores exactly as before.
 *
 * <p><b>Error kinds.</b> Every method that throws {@link SegsaException} lists its
 * {@link SegsaException#kind() kinds}, and throws no others: {@code FRAME} (skip the frame and go
 * on), {@code MODEL} (the TorchScript model), {@code SA_FILE} (the SA model, or a risk model that
 * does not belong to it), {@code NATIVE} (native libraries and kernels), {@code STOPPED} (a stop
 * was requested, {@link dev.segsa.io.StopRequest}) and {@code OTHER} (options, folders, videos,
 * configuration). Every scoring call may also throw {@code STOPPED}, and a thread's first call
 * makes that thread's scorer, so it may throw what {@link Builder#open()} throws for the model and
 * the backend ({@code MODEL}, {@code NATIVE}), e.g. when the model file was removed since. Messages
 * that suggest an option name the builder method, then the command line's flag:
 * {@code "Segsa.Builder.allowModelMismatch(true) (segsa: --allow-model-mismatch)"}.
 *
 * <p><b>Closing.</b> {@link #close()} waits for the frames being scored on other threads to
 * finish, then frees every scorer; a frame started after it throws
 * {@link IllegalStateException}. It may not be called from inside a scoring call.
 */
public final class Segsa implements AutoCloseable {
    private final Path modelPath;
    private final SaModel sa;
    private final String backendName;
    private final ScoringOptions options;
    private final boolean trustModel;
    private final boolean optimizeModel;
    /** Unused scorers kept for new threads; more are closed. */
    public static final int SPARE_SCORERS = 2;

    private final ThreadLocal<FrameScorer> scorers = new ThreadLocal<>();
    private final ConcurrentLinkedQueue<FrameScorer> allScorers = new ConcurrentLinkedQueue<>();
    /** Which live thread holds which scorer (guarded by this). */
    private final java.util.Map<FrameScorer, java.lang.ref.WeakReference<Thread>> owners = new java.util.IdentityHashMap<>();
    /** Scorers of threads that ended, for the next new thread (guarded by this). */
    private final java.util.ArrayDeque<FrameScorer> spare = new java.util.ArrayDeque<>();
    /** Latency of scorers already closed. */
    private final StageLatency retiredLatency = new StageLatency();
    /** Scoring holds it shared; close() exclusively, so it waits for frames in flight. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock lifecycle = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private final List<String> notes;
    private final String backendInUse;
    private final String deviceInUse;
    private volatile boolean closed;

    private Segsa(Builder b, SaModel sa) {
        this.modelPath = b.model;
        this.sa = sa;
        this.backendName = b.backend;
        this.trustModel = b.trustModel;
        this.optimizeModel = b.optimizeModel;
        this.options = new ScoringOptions(b.lsa, b.uncertainty, b.saThreshold, b.lsaBudget.toNanos(), b.segments, b.risk);
        // the first scorer is made now: a model that does not load, a backend that cannot start or
        // an SA model without LSA references fails here, not on the first frame
        List<String> n = new ArrayList<>();
        FrameScorer first = newScorer(n);
        this.notes = List.copyOf(n);
        this.backendInUse = first.backendName();
        this.deviceInUse = first.device();
        scorers.set(first);
        owners.put(first, new java.lang.ref.WeakReference<>(Thread.currentThread()));
    }

    /**
     * An engine for {@code model} with the SA model in {@code saFile} (written by {@code segsa fit}); both files are
     * read by {@link Builder#open()}.
     */
    public static Builder builder(Path model, Path saFile) {
        return new Builder(model, Objects.requireNonNull(saFile, "saFile"), null);
    }

    /** An engine for {@code model} with an SA model already in memory (e.g. from {@link SegsaFit}). */
    public static Builder builder(Path model, SaModel sa) {
        return new Builder(model, null, Objects.requireNonNull(sa, "sa"));
    }

    /**
     * {@code builder(model, saFile).open()}: MDSA only, automatic backend.
     *
     * @throws SegsaException of the kinds of {@link Builder#open()}
     */
    public static Segsa open(Path model, Path saFile) {
        return builder(model, saFile).open();
    }

    /**
     * Options of an engine; every one has a default. A value that is wrong on its own (a negative
     * thread count or LSA budget) is refused by its setter with an {@link IllegalArgumentException};
     * what depends on the files (the model, the SA file, the backend) is checked by {@link #open()}.
     */
    public static final class Builder {
        private final Path model;
        private final Path saFile;
        private final SaModel saModel;
        private String backend;
        private boolean lsa;
        private boolean uncertainty;
        private boolean segments;
        private dev.segsa.risk.RiskModel risk;
        private double saThreshold = Double.NaN;
        private Duration lsaBudget = Duration.ZERO;
        private boolean allowModelMismatch;
        private Path saSource;
        private boolean trustModel;
        private boolean optimizeModel;
        private int threads;

        private Builder(Path model, Path saFile, SaModel saModel) {
            this.model = Objects.requireNonNull(model, "model");
            this.saFile = saFile;
            this.saModel = saModel;
        }

        /**
         * SA kernels: {@code auto} (default; also the system property {@code segsa.backend}), {@code reference},
         * {@code native-cpu}, {@code cuda}. An unknown name fails at {@link #open()} (kind OTHER), a backend that
         * cannot start there too (kind NATIVE).
         */
        public Builder backend(String name) {
            this.backend = name;
            return this;
        }

        /** Also compute LSA (the SA model must have been fitted with references, else {@link #open()} fails: SA_FILE). Default off. */
        public Builder lsa(boolean on) {
            this.lsa = on;
            return this;
        }

        /**
         * Also find every frame's segments (connected components of the predicted classes, 8-neighbourhood) and their
         * features: sizes, the mean MDSA, entropy and margin over each segment, its interior and boundary, the mean
         * probability of every class ({@link FrameResult#segments()}). Default off.
         */
        public Builder segments(boolean on) {
            this.segments = on;
            return this;
        }

        /**
         * A risk model ({@code segsa fit-risk}): every frame gets its risk, one minus its predicted mIoU
         * ({@link FrameResult#risk()}), from its segments (turns segments on).
         *
         * <p>{@link #open()} fails with kind SA_FILE when it was fitted for another segmentation model, SA model or
         * classes, and with kind OTHER when the backend is a device backend (segments run on the CPU).
         */
        public Builder riskModel(dev.segsa.risk.RiskModel model) {
            this.risk = model;
            return this;
        }

        /** Also aggregate the softmax uncertainty baselines per class. Default off. */
        public Builder uncertainty(boolean on) {
            this.uncertainty = on;
            return this;
        }

        /** MDSA threshold for {@link FrameResult#shareAboveThreshold()}; default none. */
        public Builder saThreshold(double threshold) {
            this.saThreshold = threshold;
            return this;
        }

        /**
         * A per-frame budget: when LSA would push a frame past it (predicted from earlier frames'
         * LSA time per pixel), the frame gets MDSA only and its result says
         * {@link FrameResult.LsaState#SKIPPED_FOR_BUDGET}. Default none ({@link Duration#ZERO}).
         */
        public Builder lsaBudget(Duration budget) {
            if (budget.isNegative()) throw new IllegalArgumentException("LSA budget must not be negative, got " + budget);
            this.lsaBudget = budget;
            return this;
        }

        /**
         * Score although the model file is not the one the SA model was fitted with. The shapes must still agree: a
         * frame on which the model gives other classes or another feature dimension than the SA model fails with
         * kind SA_FILE. Without it, {@link #open()} refuses another model (kind SA_FILE).
         */
        public Builder allowModelMismatch(boolean allow) {
            this.allowModelMismatch = allow;
            return this;
        }

        /**
         * Run the model without inspecting its TorchScript code first. By default a model that
         * calls operators on files, or operators from outside LibTorch, is refused by {@link #open()}
         * (kind MODEL; see the README, "Bring your own model").
         */
        public Builder trustModel(boolean trust) {
            this.trustModel = trust;
            return this;
        }

        /**
         * Freeze the model (torch::jit::freeze), used from the second
         * frame on once the first frame's features and logits matched the original module's within
         * {@link SegmentationModel#OPTIMIZE_TOLERANCE} (else that frame fails with a SegsaException of kind MODEL;
         * a model LibTorch cannot freeze fails {@link #open()} with kind MODEL).
         */
        public Builder optimizeModel(boolean optimize) {
            this.optimizeModel = optimize;
            return this;
        }

        /**
         * Threads of LibTorch's inference and of the SA kernels, process-wide (0, the default: all
         * cores). Results do not depend on it (tested for 1, 2 and 7 threads).
         *
         * @throws IllegalArgumentException when {@code n} is negative
         */
        public Builder threads(int n) {
            if (n < 0) throw new IllegalArgumentException("threads must be >= 0, got " + n);
            this.threads = n;
            return this;
        }

        /** The file an in-memory SA model was read from, for messages. */
        public Builder saSource(Path file) {
            this.saSource = file;
            return this;
        }

        /**
         * Opens the engine: reads and checks the SA model, loads the model, starts the backend.
         *
         * @throws SegsaException of kind {@link SegsaException.Kind#SA_FILE} when the SA file is missing or corrupt,
         *                        was fitted with another model file (unless {@link #allowModelMismatch}; the
         *                        message names {@code Segsa.Builder.allowModelMismatch(true)}), has no LSA
         *                        references while {@link #lsa} is on, or the {@link #riskModel} was fitted for
         *                        another model, SA model or classes;
         *                        {@link SegsaException.Kind#MODEL} when the model file is missing or unreadable, is
         *                        not a TorchScript model, is refused by the inspection (see {@link #trustModel}),
         *                        cannot be frozen ({@link #optimizeModel}) or moved to the backend's device;
         *                        {@link SegsaException.Kind#NATIVE} when LibTorch does not load or the backend asked
         *                        for cannot start;
         *                        {@link SegsaException.Kind#OTHER} for an unknown backend name, or segments / a risk
         *                        model with a device backend. A file that is not a usable model is a MODEL error
         *                        even when it is not the fitted one (allowing the mismatch would not help)
         */
        public Segsa open() {
            SaModel sa = saModel != null ? saModel : SaModelFile.read(saFile);
            String sha = ModelFiles.sha256(model);
            if (!sha.equals(sa.settings().modelSha256()) && !allowModelMismatch) {
                // a file that does not load (not TorchScript, truncated, refused) is reported as such first
                SegmentationModel.load(model, sa.settings().upsample(), trustModel).close();
                String source = saFile != null ? saFile.toString() : saSource != null ? saSource.toString() : "the SA model";
                throw new SegsaException(SegsaException.Kind.SA_FILE, source + ": fitted with model " + sa.settings().modelFile()
                        + " (sha256 " + sa.settings().modelSha256().substring(0, 12) + "...), but the model " + model + " has sha256 "
                        + sha.substring(0, 12) + "...; refit, or pass Segsa.Builder.allowModelMismatch(true) (segsa: "
                        + "--allow-model-mismatch)");
            }
            if (risk != null) {
                try {
                    risk.requireFor(sa, "risk model");
                } catch (SegsaException e) {
                    throw e.withKind(SegsaException.Kind.SA_FILE);
                }
            }
            applyThreads(threads);
            return new Segsa(this, sa);
        }
    }

    /** Threads of LibTorch and of the kernels, process-wide; 0 leaves them as they are (all cores). */
    static void applyThreads(int threads) {
        if (threads > 0) {
            dev.segsa.model.LibTorch.setThreads(threads);
            Backends.setKernelThreads(threads);
        }
    }

    private FrameScorer newScorer(List<String> notes) {
        SegmentationModel m = SegmentationModel.load(modelPath, sa.settings().upsample(), trustModel);
        if (optimizeModel) {
            try {
                m.optimizeForInference();
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        }
        Backend b;
        try {
            b = Backends.select(backendName);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        FrameScorer s;
        try {
            s = new FrameScorer(m, sa, b, options, notes);
        } catch (RuntimeException e) {
            m.close();
            b.close();
            throw e;
        }
        allScorers.add(s);
        return s;
    }

    /** The calling thread's scorer: its own, a spare one of a thread that ended, or a new one. Called under the read lock. */
    private FrameScorer scorer() {
        if (closed) throw new IllegalStateException("the segsa engine is closed");
        FrameScorer s = scorers.get();
        if (s == null) {
            synchronized (this) {
                if (closed) throw new IllegalStateException("the segsa engine is closed");
                reclaimEndedThreads();
                s = spare.poll();
                if (s == null) s = newScorer(new ArrayList<>());
                owners.put(s, new java.lang.ref.WeakReference<>(Thread.currentThread()));
            }
            scorers.set(s);
        }
        return s;
    }

    /** Moves the scorers of threads that have ended to the spares, closing spares beyond {@link #SPARE_SCORERS}. */
    private void reclaimEndedThreads() {
        for (var it = owners.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            FrameScorer scorer = e.getKey();
            Thread t = e.getValue().get();
            if (t == null || !t.isAlive()) {
                it.remove();
                spare.add(scorer);
            }
        }
        while (spare.size() > SPARE_SCORERS) retire(spare.poll());
    }

    /** Closes a scorer no thread holds, keeping its latency. */
    private void retire(FrameScorer s) {
        allScorers.remove(s);
        owners.remove(s);
        synchronized (retiredLatency) {
            retiredLatency.add(s.latency());
        }
        try {
            s.close();
        } catch (RuntimeException | Error ignored) {
            // a scorer that fails to close (even out of memory) frees what it can; the engine goes on with fresh ones
        }
    }

    /** Runs one scoring call with the calling thread's scorer (see the class comment: Failures, Closing). */
    private <T> T withScorer(java.util.function.Function<FrameScorer, T> call) {
        dev.segsa.io.StopRequest.check();
        var lock = lifecycle.readLock();
        lock.lock();
        try {
            FrameScorer s = scorer();
            try {
                return call.apply(s);
            } catch (SegsaException | IllegalArgumentException | IllegalStateException | NullPointerException | WrongThreadException e) {
                throw e; // the caller's input (or thread) was wrong; the scorer is as it was
            } catch (RuntimeException | Error e) {
                // the scorer's state is unknown after an OutOfMemoryError or an unexpected failure: the next frame gets a fresh one
                scorers.remove();
                synchronized (this) {
                    retire(s);
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The adjusted IoU (MetaSeg's IoU_adj) of every segment of the last frame scored on the calling
     * thread, against that frame's ground truth at the output size ({@link #labelsAtOutputSize}; class
     * ids, others ignored), in the order of {@link FrameResult#segments()}: for labelled lab runs.
     *
     * @throws IllegalStateException    when segments are off or no frame was scored on this thread, or after
     *                                  {@link #close()}
     * @throws IllegalArgumentException when {@code labels} is shorter than the output size
     * @throws SegsaException           of kind {@link SegsaException.Kind#NATIVE} when the kernel fails,
     *                                  {@link SegsaException.Kind#STOPPED} when a stop was requested
     *                                  (on a thread's first call, MODEL or NATIVE: class comment, Error kinds)
     */
    public double[] segmentIouAdj(int[] labels) {
        return withScorer(s -> s.segmentIouAdj(labels));
    }

    /**
     * Scores a decoded image (any BufferedImage type; its pixels are read once).
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} for a frame that cannot be scored (size outside
     *                        1..16384 per side, more pixels than {@link dev.segsa.features.FrameReader#maxPixels()});
     *                        {@link SegsaException.Kind#MODEL} when the model's forward raises or its output breaks
     *                        the contract; {@link SegsaException.Kind#SA_FILE} when the model gives other classes or
     *                        another feature dimension than the SA model (only with
     *                        {@link Builder#allowModelMismatch}); {@link SegsaException.Kind#NATIVE} when a kernel
     *                        fails; {@link SegsaException.Kind#STOPPED} when a stop was requested; on a thread's
     *                        first call, the MODEL and NATIVE errors of making its scorer (class comment, Error
     *                        kinds). The engine stays usable (class comment, Failures)
     * @throws IllegalStateException after {@link #close()}
     */
    public FrameResult score(BufferedImage image, String frameName) {
        return withScorer(s -> s.score(image, frameName));
    }

    /** {@link #score(BufferedImage, String)} of a frame named "frame"; throws as it does. */
    public FrameResult score(BufferedImage image) {
        return score(image, "frame");
    }

    /**
     * Scores packed 8-bit pixels in place: {@code height} rows of {@code width} pixels in
     * {@code format}, rows {@code rowStride} bytes apart (at least width * bytes per pixel).
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} when the buffer is shorter than the frame,
     *                        the stride too small or the size outside 1..16384 per side (or above the pixel limit);
     *                        {@link SegsaException.Kind#MODEL} when the model's forward raises or its output breaks
     *                        the contract; {@link SegsaException.Kind#SA_FILE} when the model gives other classes or
     *                        another feature dimension than the SA model (only with
     *                        {@link Builder#allowModelMismatch}); {@link SegsaException.Kind#NATIVE} when a kernel
     *                        fails; {@link SegsaException.Kind#STOPPED} when a stop was requested; on a thread's
     *                        first call, the MODEL and NATIVE errors of making its scorer (class comment, Error
     *                        kinds). The engine stays usable (class comment, Failures)
     * @throws IllegalStateException after {@link #close()}
     */
    public FrameResult score(MemorySegment pixels, int width, int height, long rowStride, PixelFormat format, String frameName) {
        return withScorer(s -> s.score(pixels, width, height, rowStride, format, frameName));
    }

    /** As {@link #score(MemorySegment, int, int, long, PixelFormat, String)}, from the buffer's position to its limit; throws as it does. */
    public FrameResult score(ByteBuffer pixels, int width, int height, int rowStride, PixelFormat format, String frameName) {
        return score(MemorySegment.ofBuffer(pixels), width, height, rowStride, format, frameName);
    }

    /**
     * Scores an already normalised frame: float32 [3, height, width], RGB scaled to [0, 1] then
     * {@code (x - mean) / std}, at the SA model's resize when it has one.
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#FRAME} when the buffer holds fewer than
     *                        3 * width * height floats, or the size is not the SA model's resize (or outside
     *                        1..16384 per side);
     *                        {@link SegsaException.Kind#MODEL} when the model's forward raises or its output breaks
     *                        the contract; {@link SegsaException.Kind#SA_FILE} when the model gives other classes or
     *                        another feature dimension than the SA model (only with
     *                        {@link Builder#allowModelMismatch}); {@link SegsaException.Kind#NATIVE} when a kernel
     *                        fails; {@link SegsaException.Kind#STOPPED} when a stop was requested; on a thread's
     *                        first call, the MODEL and NATIVE errors of making its scorer (class comment, Error
     *                        kinds). The engine stays usable (class comment, Failures)
     * @throws IllegalStateException after {@link #close()}
     */
    public FrameResult scoreNormalized(MemorySegment chw, int width, int height, String frameName) {
        return withScorer(s -> s.scoreNormalized(chw, width, height, frameName));
    }

    /** As {@link #scoreNormalized(MemorySegment, int, int, String)}; throws as it does. */
    public FrameResult scoreNormalized(float[] chw, int width, int height, String frameName) {
        return scoreNormalized(MemorySegment.ofArray(chw), width, height, frameName);
    }

    /** As {@link #scoreNormalized(MemorySegment, int, int, String)}, from the buffer's position to its limit; throws as it does. */
    public FrameResult scoreNormalized(FloatBuffer chw, int width, int height, String frameName) {
        return scoreNormalized(MemorySegment.ofBuffer(chw), width, height, frameName);
    }

    /** Receives each scored frame of {@link #scoreFolder}, in file-name order, on the calling thread. */
    @FunctionalInterface
    public interface FrameSink {
        void accept(FrameFiles.Decoded frame, FrameResult result);
    }

    /** A frame left out by {@code skipBadFrames}, and why. */
    public record SkippedFrame(String frame, String reason) {}

    /** What a folder run did besides the frames it handed on: the file-reading latency (stage "read") and the frames skipped. */
    public record FolderRun(StageLatency read, List<SkippedFrame> skipped) {}

    /**
     * Scores every frame of a folder on the calling thread while a background thread decodes up
     * to {@code ahead} frames ahead (0: decode then score, one after the other; the results are
     * the same).
     *
     * @param labelDir      masks handed to the sink with each frame (at the image's size), or null
     * @param skipBadFrames go on past a frame that cannot be read or scored (a corrupt image, a bad
     *                      mask, a forward error, or a {@link SegsaException} from the sink), and list
     *                      it in the result; otherwise the first such error ends the run
     * @throws SegsaException of kind {@link SegsaException.Kind#OTHER} when {@code imageDir} is not a folder or
     *                        holds no image, {@link SegsaException.Kind#FRAME} when it cannot be listed; without
     *                        {@code skipBadFrames} also {@link SegsaException.Kind#FRAME} for an image or mask that
     *                        cannot be read, and the kinds of {@link #score(BufferedImage, String)}
     *                        (a {@link SegsaException} from the sink as it is); {@link SegsaException.Kind#STOPPED}
     *                        when a stop was requested, with or without it
     * @throws IllegalArgumentException when {@code ahead} is negative
     */
    public FolderRun scoreFolder(Path imageDir, Path labelDir, int ahead, boolean skipBadFrames, FrameSink sink) {
        StageLatency read = new StageLatency();
        List<SkippedFrame> skipped = new ArrayList<>();
        try (FrameFiles files = FrameFiles.open(imageDir, labelDir, ahead, skipBadFrames)) {
            for (FrameFiles.Decoded f : files) {
                if (f.failed()) {
                    skipped.add(new SkippedFrame(f.name(), f.error().getMessage()));
                    continue;
                }
                read.record("read", f.readNanos());
                try {
                    sink.accept(f, score(f.image(), f.name()));
                } catch (SegsaException e) {
                    if (!skipBadFrames || e instanceof dev.segsa.io.StopRequest.Stopped) throw e;
                    skipped.add(new SkippedFrame(f.name(), e.getMessage()));
                }
            }
        }
        return new FolderRun(read, List.copyOf(skipped));
    }

    /** {@link #scoreFolder(Path, Path, int, boolean, FrameSink)} stopping at the first error; throws as it does. */
    public StageLatency scoreFolder(Path imageDir, Path labelDir, int ahead, FrameSink sink) {
        return scoreFolder(imageDir, labelDir, ahead, false, sink).read();
    }

    /**
     * Output size {width, height} of a frame of the given size (the SA model's resize, if any).
     *
     * @throws IllegalStateException after {@link #close()}
     * @throws SegsaException        of kind {@link SegsaException.Kind#STOPPED} when a stop was requested; on a
     *                               thread's first call, MODEL or NATIVE (class comment, Error kinds)
     */
    public int[] outputSize(int width, int height) {
        return withScorer(s -> s.outputSize(width, height));
    }

    /**
     * Label ids at the frame's size, resized (nearest) to the output size: what IoU is computed on.
     *
     * @throws IllegalStateException    after {@link #close()}
     * @throws IllegalArgumentException when {@code labels} holds fewer than {@code width * height} ids
     * @throws SegsaException           of kind {@link SegsaException.Kind#STOPPED} when a stop was requested; on a
     *                                  thread's first call, MODEL or NATIVE (class comment, Error kinds)
     */
    public int[] labelsAtOutputSize(int[] labels, int width, int height) {
        if (labels.length < (long) width * height) {
            throw new IllegalArgumentException("labels holds " + labels.length + " ids, a " + width + "x" + height + " frame has "
                    + (long) width * height);
        }
        return withScorer(s -> s.labelsAtOutputSize(labels, width, height));
    }

    /** The fitted SA model (its settings: classes, names, normalisation, resize, ...). */
    public SaModel saModel() {
        return sa;
    }

    public List<String> classNames() {
        return sa.settings().classNames();
    }

    public Path modelPath() {
        return modelPath;
    }

    /** The SA backend the scorers use ("native-cpu", "reference", ...). */
    public String backend() {
        return backendInUse;
    }

    /**
     * Where inference and the SA kernels run: "cpu", or the device backend's device and stream
     * (e.g. "cuda:0 (1 visible), libsegsa_cuda ..., stream 0x...").
     */
    public String device() {
        return deviceInUse;
    }

    public ScoringOptions options() {
        return options;
    }

    /**
     * A {@link dev.segsa.stream.StreamSelector} for this engine's frames: feed it each
     * {@link #score} result with the frame's time (and its camera), and it returns the decisions
     * of each decision window as the window closes, then the rest on {@code flush()} (README, "On
     * the vehicle"). Its class triggers are checked against the SA model's classes here, before
     * the first frame. The selector is not thread-safe: one per watch, shared by its cameras.
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#OTHER} when a trigger names a class the SA model does
     *                        not have
     */
    public dev.segsa.stream.StreamSelector selector(dev.segsa.stream.SelectorConfig config) {
        List<String> classes = sa.settings().classNames();
        for (dev.segsa.stream.Trigger t : config.triggers()) {
            if (t.className() != null && !classes.contains(t.className())) {
                throw new SegsaException(SegsaException.Kind.OTHER, "trigger '" + t.name() + "': class '" + t.className()
                        + "' is not one of the SA model's classes " + classes);
            }
        }
        return new dev.segsa.stream.StreamSelector(config);
    }

    /** Notes from deriving the per-class models (dropped features, ridges, classes without a model). */
    public List<String> notes() {
        return notes;
    }

    /**
     * With {@link Builder#optimizeModel}: what the first frame's check of the optimised module
     * measured (see {@link SegmentationModel#optimizationReport()}); null before the first frame or
     * without the option.
     */
    public String optimizationReport() {
        for (FrameScorer s : allScorers) if (s.modelReport() != null) return s.modelReport();
        return null;
    }

    /** Latency of every frame scored so far, all threads together (a snapshot). */
    public StageLatency latency() {
        StageLatency all = new StageLatency();
        synchronized (retiredLatency) {
            all.add(retiredLatency);
        }
        for (FrameScorer s : allScorers) all.add(s.latency());
        return all;
    }

    /** Forgets the latency recorded so far (e.g. after a warm-up). */
    public void resetLatency() {
        synchronized (retiredLatency) {
            retiredLatency.reset();
        }
        for (FrameScorer s : allScorers) s.latency().reset();
    }

    /**
     * Closes every scorer (model runners, backends, native buffers), after the frames being scored
     * on other threads have finished. Idempotent.
     *
     * @throws IllegalStateException when called from inside a scoring call of this engine
     * @throws RuntimeException      the first error a scorer's close raised (from native code: a SegsaException
     *                               of kind {@link SegsaException.Kind#NATIVE}), after every scorer was closed
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0) {
            throw new IllegalStateException("close() called from inside a scoring call of this engine");
        }
        var lock = lifecycle.writeLock();
        lock.lock();
        try {
            synchronized (this) {
                if (closed) return;
                closed = true;
                RuntimeException first = null;
                for (FrameScorer s : allScorers) {
                    try {
                        s.close();
                    } catch (RuntimeException e) {
                        if (first == null) first = e;
                    }
                }
                allScorers.clear();
                owners.clear();
                spare.clear();
                if (first != null) throw first;
            }
        } finally {
            lock.unlock();
        }
    }

    /** How many scorers the engine holds now (for tests and monitoring): at most the live threads that scored, plus the spares. */
    public synchronized int scorerCount() {
        return allScorers.size();
    }
}
