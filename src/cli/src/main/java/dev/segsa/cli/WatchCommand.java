package dev.segsa.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.Segsa;
import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.OutputFiles;
import dev.segsa.model.ModelMetadata;
import dev.segsa.report.HeatmapImage;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import dev.segsa.score.StageLatency;
import dev.segsa.stream.ClipBuffer;
import dev.segsa.stream.DHash;
import dev.segsa.stream.SelectorConfig;
import dev.segsa.stream.StreamSelector;
import dev.segsa.stream.Trigger;
import dev.segsa.video.VideoSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Decides as frames arrive which ones to keep: scores each frame, feeds a StreamSelector (triggers on image or "
                + "class SA, shares above the SA threshold, uncertainty; a budget held with online quantiles; cooldowns; a "
                + "near-duplicate gate; pre- and post-roll clips) and writes the kept frames, a decisions log (JSON Lines) and a "
                + "status file. Sources: a video file (--video; every frame, or paced at its frame rate with --realtime) or a "
                + "folder being filled (--folder; new image files are taken once their size has not changed for one poll). "
                + "Runs until the source ends (--idle-seconds for a folder) or SIGINT/SIGTERM, then flushes and exits 0.",
                "",
                "Example: segsa watch --model m.pt --sa m.sa --video drive.mp4 --config keep.json --out kept/",
                "         segsa watch --model m.pt --sa m.sa --mcap drive.mcap --topic /camera/image_raw --share 0.05 --out kept/",
                "         segsa watch --model m.pt --sa m.sa --folder /data/cam0 --share 0.02 --out kept/ --idle-seconds 30"})
final class WatchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M.pt", description = "The TorchScript model the SA model was fitted with.")
    Path model;

    @Option(names = "--sa", required = true, paramLabel = "FILE", description = "SA model file written by segsa fit.")
    Path saFile;

    @Option(names = "--video", paramLabel = "SOURCE", description = "What FFmpeg opens: a video file (all its frames, or paced with "
            + "--realtime), a URL (rtsp://, http://, udp://, ...), a V4L2 camera (/dev/video0) or - for a stream on standard input "
            + "(live: frames that arrive while one is scored are skipped, unless --score-all).")
    String videoSource;

    /** The --video source when it is a file; null for a URL, a camera or standard input. */
    private Path video;

    @Option(names = "--mcap", paramLabel = "FILE", description = "A ROS 2 / Foxglove MCAP log: the camera frames of --topic (or of "
            + "its only image topic) at their log times, every frame scored (or paced with --realtime).")
    Path mcap;

    @Option(names = "--topic", paramLabel = "NAME", description = "With --mcap: the camera topic.")
    String topic;

    @Option(names = "--folder", paramLabel = "DIR", description = "A folder being filled with frames (PNG, JPEG, BMP), taken in name order.")
    Path folder;

    @Option(names = "--risk", paramLabel = "FILE",
            description = {"A risk model (segsa fit-risk): every frame gets its risk (one minus its predicted mIoU, from its "
                    + "segments), which --share then ranks by and triggers can read (score \"risk\")."})
    Path riskFile;

    @Option(names = "--config", paramLabel = "keep.json", description = "The selector's configuration (README, \"On the vehicle\").")
    Path config;

    @Option(names = "--share", paramLabel = "S", description = "Without --config: keep the share S of frames with the highest risk (with --risk), else the highest "
            + "class-aware score (image SA when the SA file has no class reference) (budget quantile over 300 s, 30 frames of warm-up).")
    Double share;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the kept frames, decisions.jsonl and status.json go (a new or "
            + "empty folder). Not needed with --dry-run.")
    Path out;

    @Option(names = "--dry-run", description = "Write nothing but the decisions: print each kept frame, for tuning a configuration on "
            + "a recording.")
    boolean dryRun;

    @Option(names = "--log", paramLabel = "all|kept", defaultValue = "all", description = "Decisions logged: every frame's or only the "
            + "kept ones (default ${DEFAULT-VALUE}).")
    String logMode;

    @Option(names = "--heatmap", description = "Also write the SA heatmap beside each kept scored frame.")
    boolean heatmap;

    @Option(names = "--realtime", description = "With --video: deliver frames at their presentation times and score the newest "
            + "(frames arriving while one is scored are skipped, counted and still kept in clips), as a live camera would.")
    boolean realtime;

    @Option(names = "--score-all", description = "With --folder or a stream: score every frame, the source waiting for the scorer "
            + "(replays, tuning); by default a live source's frames that arrive while one is scored are skipped.")
    boolean scoreAll;

    /** Whether --video is a stream (URL, camera, standard input) rather than a file. */
    private boolean liveStream;

    @Option(names = "--fps", paramLabel = "F", description = "With --folder: frame i's time is i / F seconds (default: the time it "
            + "was picked up).")
    Double fps;

    @Option(names = "--idle-seconds", paramLabel = "S", description = "With --folder: stop when no new frame came for S seconds "
            + "(default: run until SIGINT/SIGTERM).")
    Double idleSeconds;

    @Option(names = "--poll-ms", paramLabel = "MS", defaultValue = "200", description = "With --folder: how often the folder is "
            + "listed (default ${DEFAULT-VALUE}).")
    int pollMs;

    @Option(names = "--settle-ms", paramLabel = "MS", defaultValue = "500", description = "With --folder: a new file is taken once "
            + "its size and modification time have not changed for MS (default ${DEFAULT-VALUE}); one that then does not decode is "
            + "tried again while it keeps changing, and skipped with a warning once it has been unchanged for 10 s.")
    int settleMs;

    @Option(names = "--ring-frames", paramLabel = "N", defaultValue = "64", description = "Most recent frames held for pre-rolls and "
            + "waiting to be scored (default ${DEFAULT-VALUE}).")
    int ringFrames;

    @Option(names = "--ring-mb", paramLabel = "MB", defaultValue = "256", description = "Most memory those frames may take, in MiB "
            + "(default ${DEFAULT-VALUE}; the frames are held decoded).")
    int ringMb;

    @Option(names = "--threads", paramLabel = "N", converter = ThreadCount.class, description = "Threads of inference and of the SA kernels (default: all cores).")
    int threads;

    @Option(names = "--trust-model", description = "Run the model without inspecting its TorchScript code first.")
    boolean trustModel;

    @Option(names = "--allow-model-mismatch", description = "Score although --model is not the file the SA model was fitted with.")
    boolean allowModelMismatch;

    /** A frame from the source: its decoded image, name, index in the stream, time and size. */
    record Frame(BufferedImage image, String name, long index, double seconds, long bytes) {}

    private static final Frame END = new Frame(null, "end", -1, 0, 0);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        int sources = (videoSource != null ? 1 : 0) + (folder != null ? 1 : 0) + (mcap != null ? 1 : 0);
        if (sources != 1) throw new IllegalArgumentException("give one of --video SOURCE, --mcap FILE and --folder DIR");
        if (topic != null && mcap == null) throw new IllegalArgumentException("--topic is for --mcap");
        boolean stream = videoSource != null && (videoSource.equals("-") || videoSource.equals("/dev/stdin")
                || videoSource.contains("://") || videoSource.startsWith("/dev/video"));
        if (videoSource != null && !stream) video = Path.of(videoSource);
        liveStream = stream;
        if ((config == null) == (share == null)) throw new IllegalArgumentException("give either --config FILE or --share S");
        if (!dryRun && out == null) throw new IllegalArgumentException("--out DIR is needed (or --dry-run)");
        if (!logMode.equals("all") && !logMode.equals("kept")) throw new IllegalArgumentException("--log must be all or kept, got " + logMode);
        if (realtime && video == null && mcap == null) {
            throw new IllegalArgumentException("--realtime is for a --video file or --mcap (a folder or a stream is live)");
        }
        if (scoreAll && folder == null && !stream) {
            throw new IllegalArgumentException("--score-all is for --folder and streams (a --video file is scored whole unless --realtime)");
        }
        if (fps != null && folder == null) throw new IllegalArgumentException("--fps is for --folder (a video has its own times)");
        if (fps != null && !(fps > 0)) throw new IllegalArgumentException("--fps must be > 0");
        if (idleSeconds != null && folder == null) throw new IllegalArgumentException("--idle-seconds is for --folder");
        if (ringFrames < 1 || ringFrames > 100_000) throw new IllegalArgumentException("--ring-frames must be 1 .. 100000");
        if (ringMb < 1) throw new IllegalArgumentException("--ring-mb must be >= 1");
        if (pollMs < 10 || pollMs > 60_000) throw new IllegalArgumentException("--poll-ms must be 10 .. 60000");
        if (settleMs < 0 || settleMs > 600_000) throw new IllegalArgumentException("--settle-ms must be 0 .. 600000");
        OutputFiles.protect(model);
        OutputFiles.protect(ModelMetadata.sidecarOf(model));
        OutputFiles.protect(saFile);
        OutputFiles.protect(video);
        OutputFiles.protect(mcap);
        OutputFiles.protect(folder);
        OutputFiles.protect(config);
        OutputFiles.protect(riskFile);
        if (video != null && !Files.isRegularFile(video)) throw new SegsaException(video + ": video file not found");
        if (folder != null && !Files.isDirectory(folder)) throw new SegsaException(folder + ": folder not found");
        SelectorConfig cfg = config != null ? SelectorConfig.read(config) : null;
        if (out != null) {
            OutputFiles.checkDirectory(out, "--out");
            if (Files.isDirectory(out)) {
                try (var s = Files.list(out)) {
                    if (s.findAny().isPresent()) throw new SegsaException(out + ": --out must be a new or empty folder (nothing is overwritten)");
                }
            }
        }
        SaModel sa = SaModelFile.read(saFile);
        dev.segsa.risk.RiskModel risk = null;
        if (riskFile != null) {
            risk = dev.segsa.risk.RiskModelFile.read(riskFile);
            risk.requireFor(sa, riskFile);
        }
        if (cfg == null && risk != null) {
            cfg = SelectorConfig.riskShare(share);
        } else if (cfg == null) {
            cfg = SelectorConfig.bestFrameScoreShare(share, sa.frameReference() != null);
            if (sa.frameReference() == null) {
                System.err.println("segsa watch: note: " + saFile + " has no class reference (fitted before segsa recorded one): "
                        + "--share ranks by image MDSA, which finds bad frames no better than chance across recordings; refit for the "
                        + "class-aware score");
            }
        }
        for (Trigger t : cfg.triggers()) {
            if (t.score() == Trigger.Score.RISK && risk == null) {
                throw new SegsaException((config != null ? config + ": " : "") + "trigger '" + t.name() + "' reads risk: give the risk "
                        + "model with --risk FILE (segsa fit-risk)");
            }
            if ((t.score() == Trigger.Score.CLASS_AWARE || t.score() == Trigger.Score.CLASS_PERCENTILE) && sa.frameReference() == null) {
                throw new SegsaException((config != null ? config + ": " : "") + "trigger '" + t.name() + "' reads " + t.score().key()
                        + ", but " + saFile + " has no class reference (fitted before segsa recorded one): refit it with segsa fit");
            }
        }
        boolean needsShare = cfg.triggers().stream().anyMatch(t -> t.score() == Trigger.Score.SHARE_ABOVE
                || t.score() == Trigger.Score.CLASS_SHARE_ABOVE);
        boolean needsUncertainty = cfg.triggers().stream().anyMatch(t -> switch (t.score()) {
            case ENTROPY, MARGIN, LEAST_CONFIDENCE, DEEPGINI -> true;
            default -> false;
        });
        Segsa.Builder b = Segsa.builder(model, sa).saSource(saFile).allowModelMismatch(allowModelMismatch).trustModel(trustModel)
                .threads(threads).uncertainty(needsUncertainty).riskModel(risk);
        if (needsShare) b.saThreshold(defaultThreshold(sa));
        AtomicBoolean stop = new AtomicBoolean();
        List<Runnable> restore = Signals.onStop(stop);
        Path logTemp = null;
        boolean createdOut = false;
        try (Segsa engine = b.open()) {
            StreamSelector selector = engine.selector(cfg);
            ClipBuffer<Frame> clips = new ClipBuffer<>(cfg.preSeconds(), cfg.postSeconds(), ringFrames, (long) ringMb << 20);
            if (out != null && !Files.isDirectory(out)) {
                Files.createDirectories(out);
                createdOut = true;
            }
            Path log = out == null ? null : out.resolve("decisions.jsonl");
            logTemp = log == null ? null : out.resolve("decisions.jsonl" + AtomicOutput.TEMP_MARK + "partial");
            try (BufferedWriter logWriter = logTemp == null ? null : Files.newBufferedWriter(logTemp, StandardCharsets.UTF_8)) {
                Run run = new Run(engine, selector, clips, logWriter, stop);
                run.loop();
                if (selector.stats().seen() + run.dropped.get() == 0) {
                    throw new SegsaException((videoSource != null ? videoSource.equals("-") ? "standard input" : videoSource
                            : mcap != null ? mcap.toString() : folder.toString()) + ": no frame was read" + (videoSource != null && videoSource.equals("-")
                            ? " (an MP4 cannot be read from a pipe: its index is at its end; pipe MPEG-TS or Matroska)" : "")
                            + "; nothing written");
                }
                if (logWriter != null) logWriter.flush();
                if (log != null) Files.move(logTemp, log, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                logTemp = null;
                run.writeStatus(true);
                run.summary();
            }
            return 0;
        } finally {
            restore.forEach(Runnable::run);
            if (logTemp != null) Files.deleteIfExists(logTemp);
            if (logTemp != null && createdOut) {
                try (var left = Files.list(out)) {
                    if (left.findAny().isEmpty()) Files.deleteIfExists(out);  // a failed run leaves no folder it made
                }
            }
        }
    }

    /** The SA threshold of the share triggers: the SA model's suggested one, else sqrt(d) (the chi distribution's mean). */
    private static double defaultThreshold(SaModel sa) {
        return Math.sqrt(sa.settings().featureDimension());
    }

    /** One watch: the source thread, the queue, the decisions and the outputs. */
    private final class Run {
        private final Segsa engine;
        private final StreamSelector selector;
        private final ClipBuffer<Frame> clips;
        private final BufferedWriter log;
        private final AtomicBoolean stop;
        private final LinkedBlockingDeque<Frame> queue;
        private final AtomicLong dropped = new AtomicLong();
        private final AtomicLong badFrames = new AtomicLong();
        private final Set<Long> written = new HashSet<>();
        private final long started = System.nanoTime();
        private long lastStatus = System.nanoTime();
        private long scoredFrames, keptFrames, writtenFrames;
        private String sourceNote;
        private volatile Throwable sourceError;
        private final boolean terminal = System.console() != null && System.console().isTerminal();

        Run(Segsa engine, StreamSelector selector, ClipBuffer<Frame> clips, BufferedWriter log, AtomicBoolean stop) {
            this.engine = engine;
            this.selector = selector;
            this.clips = clips;
            this.log = log;
            this.stop = stop;
            this.queue = new LinkedBlockingDeque<>(ringFrames + 1);
        }

        /** Live sources never wait for the scorer: a full queue loses its oldest frame (counted). */
        private boolean live() {
            return ((folder != null || liveStream) && !scoreAll) || realtime;
        }

        void loop() throws Exception {
            Thread source = Thread.ofPlatform().name("segsa-watch-source").daemon().start(this::produce);
            try {
                List<Frame> batch = new ArrayList<>();
                boolean ended = false;
                while (!ended && !stop.get()) {
                    Frame f = queue.pollFirst(200, TimeUnit.MILLISECONDS);
                    if (f != null) {
                        batch.add(f);
                        if (live()) queue.drainTo(batch);
                        for (int i = 0; i < batch.size(); i++) {
                            Frame x = batch.get(i);
                            if (x == END) {
                                ended = true;
                                break;
                            }
                            // live: only the newest frame of the batch is scored; the others are skipped (counted) but stay in the ring
                            boolean last = i == batch.size() - 1 || batch.get(i + 1) == END;
                            handle(x, !live() || last);
                        }
                        batch.clear();
                    }
                    if (sourceError != null) throw new SegsaException(String.valueOf(sourceError.getMessage()), sourceError);
                    maybeStatus();
                }
            } finally {
                stop.set(true);
                source.interrupt();
                source.join(5000);
            }
            if (sourceError != null) throw new SegsaException(String.valueOf(sourceError.getMessage()), sourceError);
            if (clips.open(Double.POSITIVE_INFINITY) && clips.openUntil() > lastSeconds) {
                sourceNote = String.format(Locale.ROOT, "the last post-roll was cut short at %.3f s (it ran to %.3f s)", lastSeconds,
                        clips.openUntil());
            }
        }

        private double lastSeconds = Double.NEGATIVE_INFINITY;

        private void handle(Frame f, boolean score) throws IOException {
            lastSeconds = f.seconds();
            for (ClipBuffer.Timed<Frame> w : clips.push(f, f.index(), f.seconds(), f.bytes())) write(w.frame(), null);
            if (!score) {
                selector.skipped(1);
                return;
            }
            FrameResult r = engine.score(f.image(), f.name());
            scoredFrames++;
            boolean gate = selector.config().maxHamming() >= 0;  // the dHash only feeds the diversity gate
            StreamSelector.Decision d = selector.offer(r, f.seconds(), gate ? DHash.of(f.image()) : 0, gate, f.bytes());
            if (d.keep()) {
                keptFrames++;
                for (ClipBuffer.Timed<Frame> w : clips.keep(f.index(), f.seconds())) write(w.frame(), w.index() == f.index() ? r : null);
                if (dryRun) System.out.println(f.name() + "  " + d);
            }
            if (log != null && (d.keep() || logMode.equals("all"))) logDecision(f, r, d);
        }

        private void write(Frame f, FrameResult scored) throws IOException {
            if (dryRun || out == null || !written.add(f.index())) return;
            String base = String.format(Locale.ROOT, "%08d_%s", f.index(), safe(f.name()));
            AtomicOutput.write(out.resolve(base + ".png"), png(f.image()));
            writtenFrames++;
            if (heatmap && scored != null) {
                float[] map = scored.copyMdsaMap();
                BufferedImage h = HeatmapImage.render(f.image(), map, scored.width(), scored.height(), 0,
                        Math.max(1e-9, 2 * scored.imageMdsa()), f.name() + String.format(Locale.ROOT, "  image MDSA %.3f", scored.imageMdsa()));
                AtomicOutput.write(out.resolve(base + "-heatmap.png"), png(h));
            }
        }

        private void logDecision(Frame f, FrameResult r, StreamSelector.Decision d) throws IOException {
            ObjectNode o = JSON.createObjectNode();
            o.put("frame", f.index());
            o.put("name", f.name());
            o.put("seconds", f.seconds());
            o.put("keep", d.keep());
            o.put("rule", d.rule());
            putNumber(o, "score", d.score());
            putNumber(o, "threshold", d.threshold());
            o.put("reason", d.reason());
            putNumber(o, "imageMdsa", r.imageMdsa());
            if (Double.isFinite(r.classAwareScore())) o.put("classAware", r.classAwareScore());
            if (Double.isFinite(r.risk())) o.put("risk", r.risk());
            o.put("latencyMs", r.timings().totalNanos() / 1e6);
            log.write(JSON.writeValueAsString(o));
            log.newLine();
        }

        private void produce() {
            try {
                if (videoSource != null) produceVideo();
                else if (mcap != null) produceMcap();
                else produceFolder();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                sourceError = t;
            } finally {
                try {
                    while (!queue.offerLast(END, 100, TimeUnit.MILLISECONDS)) {
                        if (stop.get()) break;
                    }
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private void deliver(Frame f) throws InterruptedException {
            if (!live()) {
                while (!queue.offerLast(f, 100, TimeUnit.MILLISECONDS)) if (stop.get()) return;
                return;
            }
            while (!queue.offerLast(f)) {
                if (queue.pollFirst() != null) dropped.incrementAndGet();
            }
        }

        private void produceVideo() throws InterruptedException {
            try (VideoSource src = VideoSource.openSource(videoSource, VideoSource.Options.ALL)) {
                long t0 = System.nanoTime();
                double firstPts = Double.NaN;
                for (VideoSource.VideoFrame v : src) {
                    if (stop.get()) return;
                    if (Double.isNaN(firstPts)) firstPts = v.seconds();
                    if (realtime) {
                        long due = t0 + (long) ((v.seconds() - firstPts) * 1e9);
                        long wait = due - System.nanoTime();
                        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    deliver(new Frame(toImage(v), v.name(), v.index(), v.seconds(), 3L * v.width() * v.height()));
                }
            }
        }

        /** A file seen in the folder and not taken yet: its size and time, and since when they have not changed. */
        private record Pending(long size, long mtime, long since) {}

        private void produceMcap() throws InterruptedException {
            try (dev.segsa.mcap.McapSource src = new dev.segsa.mcap.McapSource(mcap, topic, 0, Double.POSITIVE_INFINITY)) {
                long t0 = System.nanoTime();
                long first = Long.MIN_VALUE;
                for (dev.segsa.mcap.McapSource.Frame f : src) {
                    if (stop.get()) return;
                    if (first == Long.MIN_VALUE) first = f.logTime();
                    if (realtime) {
                        long wait = t0 + (f.logTime() - first) - System.nanoTime();
                        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    deliver(new Frame(f.image(), f.topic() + "#" + f.index(), f.index(), f.seconds(), f.message().data().length));
                }
                if (src.reader().truncatedAt() >= 0) {
                    System.err.println("segsa watch: warning: " + mcap + " ends inside the record at offset " + src.reader().truncatedAt()
                            + " (a recorder stopped mid-write?): watched the frames before it");
                }
            }
        }

        private void produceFolder() throws InterruptedException, IOException {
            Map<Path, Pending> pending = new HashMap<>();
            Set<Path> taken = new HashSet<>();
            long index = 0, lastNew = System.nanoTime();
            while (!stop.get()) {
                boolean any = false;
                long now = System.nanoTime();
                for (Path p : FrameReader.listFrames(folder)) {
                    if (taken.contains(p)) continue;
                    long size, mtime;
                    try {
                        size = Files.size(p);
                        mtime = Files.getLastModifiedTime(p).toMillis();
                    } catch (IOException e) {
                        continue;  // gone or not readable yet: looked at again next poll
                    }
                    Pending seen = pending.get(p);
                    if (seen == null || seen.size() != size || seen.mtime() != mtime || size == 0) {
                        pending.put(p, new Pending(size, mtime, now));  // new or still growing
                        continue;
                    }
                    double unchanged = (now - seen.since()) / 1e6;
                    if (unchanged < settleMs) continue;
                    BufferedImage img;
                    try {
                        img = FrameReader.readImage(p);
                    } catch (SegsaException e) {
                        if (unchanged < 10_000) continue;  // maybe still being written in pauses: tried again
                        System.err.println("segsa watch: warning: skipped " + e.getMessage().lines().findFirst().orElse(p.toString()));
                        pending.remove(p);
                        taken.add(p);
                        badFrames.incrementAndGet();
                        continue;
                    }
                    pending.remove(p);
                    taken.add(p);
                    any = true;
                    double t = fps != null ? index / fps : (System.nanoTime() - started) / 1e9;
                    deliver(new Frame(img, p.getFileName().toString(), index++, t, size));
                }
                if (any || !pending.isEmpty()) lastNew = System.nanoTime();
                if (idleSeconds != null && (System.nanoTime() - lastNew) / 1e9 >= idleSeconds) return;
                TimeUnit.MILLISECONDS.sleep(pollMs);
            }
        }

        private void maybeStatus() throws IOException {
            long now = System.nanoTime();
            if (now - lastStatus < 2_000_000_000L) return;
            lastStatus = now;
            writeStatus(false);
            if (terminal) {
                StreamSelector.Stats s = selector.stats();
                double el = (now - started) / 1e9;
                System.err.printf(Locale.ROOT, "\rsegsa watch: %d frames seen, %d scored (%.1f/s), %d skipped, %d kept (%.2f%%)   ",
                        s.seen(), s.scored(), s.scored() / el, s.skipped() + dropped.get(), s.kept(), 100 * s.achievedShare());
            }
        }

        void writeStatus(boolean last) throws IOException {
            if (out == null) return;
            StreamSelector.Stats s = selector.stats();
            ObjectNode o = JSON.createObjectNode();
            o.put("running", !last);
            o.put("elapsedSeconds", (System.nanoTime() - started) / 1e9);
            o.put("framesSeen", s.seen() + dropped.get());
            o.put("framesScored", s.scored());
            o.put("framesSkipped", s.skipped());
            o.put("framesDroppedBeforeScoring", dropped.get());
            o.put("badFramesSkipped", badFrames.get());
            o.put("framesKept", s.kept());
            o.put("framesWritten", writtenFrames);
            o.put("achievedKeepShare", s.achievedShare());
            putNumber(o, "keptPerMinute", s.keptPerMinute());
            ObjectNode th = o.putObject("thresholds");
            for (int i = 0; i < selector.config().triggers().size(); i++) {
                double v = selector.threshold(i);
                if (Double.isNaN(v)) th.putNull(selector.config().triggers().get(i).name());
                else th.put(selector.config().triggers().get(i).name(), v);
            }
            StageLatency.Stage frame = null;
            for (StageLatency.Stage st : engine.latency().stages()) if (st.name().equals(StageLatency.FRAME)) frame = st;
            if (frame != null) putNumber(o, "p99LatencyMs", frame.p99Ms());
            o.put("clipPreRollFramesCutShort", clips.cutShort());
            if (sourceNote != null) o.put("note", sourceNote);
            AtomicOutput.write(out.resolve("status.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o));
        }

        void summary() {
            if (terminal) System.err.println();
            StreamSelector.Stats s = selector.stats();
            System.out.printf(Locale.ROOT, "segsa watch: %d frames seen, %d scored, %d skipped (scoring slower than the source), %d lost "
                            + "before scoring (queue full); kept %d (%.2f%% of the frames seen; %d dropped over budget, %d near-duplicates), "
                            + "%d frames written with clips%s%n", s.seen() + dropped.get(), s.scored(), s.skipped(), dropped.get(), s.kept(),
                    100 * s.achievedShare(), s.budgetDrops(), s.duplicateDrops(), writtenFrames, out == null ? "" : " to " + out);
            if (clips.cutShort() > 0) {
                System.err.println("segsa watch: note: " + clips.cutShort() + " pre-roll frames had left the ring (--ring-frames "
                        + ringFrames + ", --ring-mb " + ringMb + ") before the frame that wanted them was kept");
            }
            if (sourceNote != null) System.err.println("segsa watch: note: " + sourceNote);
        }
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    /** The frame's name without its image extension, in characters every file system takes. */
    private static String safe(String name) {
        String stem = name.replaceFirst("(?i)\\.(png|jpe?g|bmp)$", "");
        return stem.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "png", b);
        return b.toByteArray();
    }

    /** A decoded RGB24 video frame as a BufferedImage of its own (the decoder reuses its buffer). */
    private static BufferedImage toImage(VideoSource.VideoFrame v) {
        BufferedImage img = new BufferedImage(v.width(), v.height(), BufferedImage.TYPE_INT_RGB);
        int[] row = new int[v.width()];
        ByteBuffer px = v.pixels();
        for (int y = 0; y < v.height(); y++) {
            int at = y * v.stride();
            for (int x = 0; x < v.width(); x++, at += 3) {
                row[x] = ((px.get(at) & 255) << 16) | ((px.get(at + 1) & 255) << 8) | (px.get(at + 2) & 255);
            }
            img.setRGB(0, y, v.width(), 1, row, 0, v.width());
        }
        return img;
    }
}
