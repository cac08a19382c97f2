package dev.segsa.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.Segsa;
import dev.segsa.error.SegsaException;
import dev.segsa.io.OutputFiles;
import dev.segsa.model.ModelMetadata;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import dev.segsa.score.StageLatency;
import dev.segsa.stream.ClipBuffer;
import dev.segsa.stream.DHash;
import dev.segsa.stream.FrameDescriptor;
import dev.segsa.stream.SelectorConfig;
import dev.segsa.stream.StreamSelector;
import dev.segsa.stream.Trigger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Decides as frames arrive which ones to keep: scores each frame of one or several cameras with one engine, "
                + "feeds one StreamSelector (triggers on risk, the class-aware score, image or class SA, uncertainty; one budget shared "
                + "by every trigger and camera, held over decision windows with an exact top-k and the unspent allowance carried; "
                + "cooldowns; a near-duplicate gate; pre- and post-roll clips) and writes the kept frames, clips (PNG or MP4), a "
                + "decisions log (JSON Lines, every frame) and status.json. Sources: video files or streams (--video), MCAP topics "
                + "(--mcap), folders being filled (--folder), or several named ones (--source NAME=KIND:WHERE, repeated). Runs until "
                + "every source ends (--idle-seconds for a folder) or SIGINT/SIGTERM, then decides the frames still waiting, "
                + "writes the final status (running false, the reason) and exits 0.",
                "",
                "Example: segsa watch --model m.pt --sa m.sa --video drive.mp4 --config keep.json --out kept/",
                "         segsa watch --model m.pt --sa m.sa --mcap drive.mcap --topic /camera/image_raw --share 0.05 --out kept/",
                "         segsa watch --model m.pt --sa m.sa --folder /data/cam0 --share 0.02 --out kept/ --idle-seconds 30",
                "         segsa watch --model m.pt --sa m.sa --risk m.risk --share 0.05 --out kept/ --clip-format mp4 \\",
                "             --source front=video:rtsp://10.0.0.2/front --source left=mcap:drive.mcap#/cam/left"})
final class WatchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M.pt", description = "The TorchScript model the SA model was fitted with.")
    Path model;

    @Option(names = "--sa", required = true, paramLabel = "FILE", description = "SA model file written by segsa fit.")
    Path saFile;

    @Option(names = "--video", paramLabel = "SOURCE", description = "What FFmpeg opens: a video file (all its frames, or paced with "
            + "--realtime), a URL (rtsp://, http://, udp://, ...), a V4L2 camera (/dev/video0) or - for a stream on standard input "
            + "(live: frames that arrive while one is scored are skipped, unless --score-all).")
    String videoSource;

    @Option(names = "--mcap", paramLabel = "FILE", description = "A ROS 2 / Foxglove MCAP log: the camera frames of --topic (or of "
            + "its only image topic) at their log times, every frame scored (or paced with --realtime).")
    Path mcap;

    @Option(names = "--topic", paramLabel = "NAME", description = "With --mcap: the camera topic.")
    String topic;

    @Option(names = "--folder", paramLabel = "DIR", description = "A folder being filled with frames (PNG, JPEG, BMP), taken in name order.")
    Path folder;

    @Option(names = "--source", paramLabel = "NAME=KIND:WHERE", description = {"A named camera, repeated for several: "
            + "NAME=video:FILE|URL|/dev/videoN|-, NAME=mcap:FILE[#TOPIC] or NAME=folder:DIR. One engine scores them all and one "
            + "budget covers them (with an optional per-camera minimum: budget.minSharePerSource). Instead of --video, --mcap and "
            + "--folder (which make one camera named cam0)."})
    List<String> sourceSpecs;

    @Option(names = "--open-timeout", paramLabel = "S", converter = FiniteNumber.Timeout.class, defaultValue = "10", description = "Network streams: seconds to open "
            + "before the attempt fails (default ${DEFAULT-VALUE}).")
    double openTimeout;

    @Option(names = "--read-timeout", paramLabel = "S", converter = FiniteNumber.Timeout.class, defaultValue = "5", description = "Network streams: seconds without a "
            + "frame before the connection is taken for dead (default ${DEFAULT-VALUE}).")
    double readTimeout;

    @Option(names = "--reconnects", paramLabel = "N", defaultValue = "10", description = "Network streams: times a failed stream "
            + "is opened again in a row, after 1, 2, 4 ... 30 s (default ${DEFAULT-VALUE}; a frame read resets the count); then the "
            + "camera is given up (the others go on).")
    int reconnects;

    @Option(names = "--clip-format", paramLabel = "png|mp4", defaultValue = "png", description = "How clip frames are written: one PNG "
            + "each, or one H.264 MP4 per clip (the kept frame also as a PNG) (default ${DEFAULT-VALUE}).")
    String clipFormat;

    @Option(names = "--risk", paramLabel = "FILE",
            description = {"A risk model (segsa fit-risk): every frame gets its risk (one minus its predicted mIoU, from its "
                    + "segments), which --share then ranks by and triggers can read (score \"risk\")."})
    Path riskFile;

    @Option(names = "--config", paramLabel = "keep.json", description = "The selector's configuration (README, \"On the vehicle\").")
    Path config;

    @Option(names = "--share", paramLabel = "S", converter = FiniteNumber.Fraction.class, description = "Without --config: keep the share S of frames with the highest risk (with --risk), else the highest "
            + "class-aware score (image SA when the SA file has no class reference), with the default budget: decision windows of 2 s, "
            + "horizon 60 s, no warm-up, burst 1 (README, \"On the vehicle\").")
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

    @Option(names = "--fps", paramLabel = "F", converter = FiniteNumber.FrameRate.class, description = "With --folder: frame i's time is i / F seconds (default: the time it "
            + "was picked up).")
    Double fps;

    @Option(names = "--idle-seconds", paramLabel = "S", converter = FiniteNumber.Seconds.class, description = "With --folder: stop when no new frame came for S seconds "
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

    /** Why the run ended, for the final status. */
    private volatile String endReason;

    @Override
    public Integer call() throws Exception {
        int legacy = (videoSource != null ? 1 : 0) + (folder != null ? 1 : 0) + (mcap != null ? 1 : 0);
        boolean many = sourceSpecs != null && !sourceSpecs.isEmpty();
        if (many && legacy > 0) throw new IllegalArgumentException("give --source NAME=KIND:WHERE, or one of --video, --mcap and --folder, not both");
        if (!many && legacy != 1) throw new IllegalArgumentException("give one of --video SOURCE, --mcap FILE and --folder DIR (or --source, repeated)");
        if (topic != null && mcap == null) throw new IllegalArgumentException("--topic is for --mcap");
        List<String[]> specs = new ArrayList<>();
        if (many) {
            Set<String> names = new HashSet<>();
            for (String spec : sourceSpecs) {
                String[] p = WatchSource.parse(spec);
                if (!names.add(p[0])) throw new IllegalArgumentException("two sources are named " + p[0]);
                specs.add(p);
            }
            if (specs.size() > 64) throw new IllegalArgumentException("at most 64 sources, got " + specs.size());
        } else if (videoSource != null) {
            specs.add(new String[] {"cam0", "video", videoSource, null});
        } else if (mcap != null) {
            specs.add(new String[] {"cam0", "mcap", mcap.toString(), topic});
        } else {
            specs.add(new String[] {"cam0", "folder", folder.toString(), null});
        }
        boolean anyStream = specs.stream().anyMatch(p -> p[1].equals("video") && WatchSource.isStream(p[2]));
        boolean anyFolder = specs.stream().anyMatch(p -> p[1].equals("folder"));
        boolean anyFile = specs.stream().anyMatch(p -> p[1].equals("mcap") || p[1].equals("video") && !WatchSource.isStream(p[2]));
        if (specs.stream().filter(p -> p[1].equals("video") && (p[2].equals("-") || p[2].equals("/dev/stdin"))).count() > 1) {
            throw new IllegalArgumentException("only one source can read standard input");
        }
        if ((config == null) == (share == null)) throw new IllegalArgumentException("give either --config FILE or --share S");
        if (!dryRun && out == null) throw new IllegalArgumentException("--out DIR is needed (or --dry-run)");
        if (!logMode.equals("all") && !logMode.equals("kept")) throw new IllegalArgumentException("--log must be all or kept, got " + logMode);
        if (!clipFormat.equals("png") && !clipFormat.equals("mp4")) throw new IllegalArgumentException("--clip-format must be png or mp4, got " + clipFormat);
        if (realtime && !anyFile) {
            throw new IllegalArgumentException("--realtime is for a --video file or --mcap (a folder or a stream is live)");
        }
        if (scoreAll && !anyFolder && !anyStream) {
            throw new IllegalArgumentException("--score-all is for --folder and streams (a --video file is scored whole unless --realtime)");
        }
        if (fps != null && !anyFolder) throw new IllegalArgumentException("--fps is for --folder (a video has its own times)");
        if (idleSeconds != null && !anyFolder) throw new IllegalArgumentException("--idle-seconds is for --folder");
        if (reconnects < 0 || reconnects > 1_000_000) throw new IllegalArgumentException("--reconnects must be 0 .. 1000000, got " + reconnects);
        if (ringFrames < 1 || ringFrames > 100_000) throw new IllegalArgumentException("--ring-frames must be 1 .. 100000");
        if (ringMb < 1) throw new IllegalArgumentException("--ring-mb must be >= 1");
        if (pollMs < 10 || pollMs > 60_000) throw new IllegalArgumentException("--poll-ms must be 10 .. 60000");
        if (settleMs < 0 || settleMs > 600_000) throw new IllegalArgumentException("--settle-ms must be 0 .. 600000");
        OutputFiles.protect(model);
        OutputFiles.protect(ModelMetadata.sidecarOf(model));
        OutputFiles.protect(saFile);
        OutputFiles.protect(config);
        OutputFiles.protect(riskFile);
        for (String[] p : specs) {
            if (p[1].equals("video") && WatchSource.isStream(p[2])) {
                OutputFiles.protectSource(p[2]);
                continue;
            }
            Path where = Path.of(p[2]);
            OutputFiles.protect(where);
            if (p[1].equals("folder") && !Files.isDirectory(where)) throw new SegsaException(where + ": folder not found");
            if (!p[1].equals("folder") && !Files.isRegularFile(where)) {
                throw new SegsaException(where + ": " + (p[1].equals("mcap") ? "MCAP" : "video") + " file not found");
            }
        }
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
        boolean createdOut = false;
        Run run = null;
        try (Segsa engine = b.open()) {
            StreamSelector selector = new StreamSelector(cfg, ringFrames);
            engine.selector(cfg);  // checks the class triggers against the SA model
            if (out != null && !Files.isDirectory(out)) {
                Files.createDirectories(out);
                createdOut = true;
            }
            Semaphore arrivals = new Semaphore(0);
            WatchSource.Settings settings = new WatchSource.Settings(realtime, scoreAll, fps, idleSeconds, pollMs, settleMs, ringFrames,
                    openTimeout, readTimeout, reconnects, System.nanoTime());
            List<WatchSource> sources = new ArrayList<>();
            for (String[] p : specs) {
                sources.add(new WatchSource(sources.size(), p[0], WatchSource.Kind.valueOf(p[1].toUpperCase(Locale.ROOT)), p[2], p[3],
                        settings, stop, arrivals));
            }
            try (WatchOutput output = new WatchOutput(dryRun ? null : out, logMode.equals("all"),
                    WatchOutput.ClipFormat.valueOf(clipFormat.toUpperCase(Locale.ROOT)), 10)) {
                run = new Run(engine, selector, cfg, sources, output, stop, arrivals);
                try {
                    run.loop();
                    if (!run.seenAny()) {
                        throw new SegsaException(sources.getFirst().describe() + ": no frame was read"
                                + (sources.size() == 1 && sources.getFirst().failure != null ? " (" + sources.getFirst().lastError + ")" : "")
                                + (sources.stream().anyMatch(x -> x.location.equals("-"))
                                ? " (an MP4 cannot be read from a pipe: its index is at its end; pipe MPEG-TS or Matroska)" : ""));
                    }
                    output.close();
                } catch (Throwable t) {
                    // every exit path of a started run leaves a final status saying why it ended
                    output.abortClips();
                    endReason = "error: " + String.valueOf(t.getMessage()).lines().findFirst().orElse(t.toString());
                    try {
                        run.finalStatus();
                    } catch (IOException | RuntimeException e) {
                        t.addSuppressed(e);
                    }
                    throw t;
                }
                endReason = run.stopRequested ? "stopped" + (Signals.lastSignal() != null ? " by SIG" + Signals.lastSignal() : "")
                        : run.failedSources() > 0 ? "every source ended; " + run.failedSources() + " failed" : "every source ended";
                run.finalStatus();
                run.summary();
            }
            return run.failedSources() > 0 ? 1 : 0;
        } finally {
            restore.forEach(Runnable::run);
            if (createdOut && run == null) {
                Files.deleteIfExists(out.resolve("decisions.jsonl"));
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

    /** A scored frame waiting for its window's decision: the frame, and what its log line and heatmap need. */
    private record Waiting(WatchSource.Frame frame, double imageMdsa, double classAware, double risk, double latencyMs,
                           float[] map, int mapWidth, int mapHeight) {}

    /** One watch: the sources' queues, the scorer, the selector's decisions and the outputs. */
    private final class Run {
        private final Segsa engine;
        private final StreamSelector selector;
        private final SelectorConfig cfg;
        private final List<WatchSource> sources;
        private final List<ClipBuffer<WatchSource.Frame>> clips = new ArrayList<>();
        private final WatchOutput output;
        private final AtomicBoolean stop;
        private final Semaphore arrivals;
        private final Map<Long, Waiting> waiting = new HashMap<>();
        private final long started = System.nanoTime();
        private final String startedAt = java.time.Instant.now().toString();
        private long lastStatus = System.nanoTime();
        private final long[] scored, skipped, kept, ended;
        private final double[][] latencies;
        private final int[] latencyCount;
        private final boolean terminal = System.console() != null && System.console().isTerminal();

        Run(Segsa engine, StreamSelector selector, SelectorConfig cfg, List<WatchSource> sources, WatchOutput output, AtomicBoolean stop,
            Semaphore arrivals) {
            this.engine = engine;
            this.selector = selector;
            this.cfg = cfg;
            this.sources = sources;
            this.output = output;
            this.stop = stop;
            this.arrivals = arrivals;
            int n = sources.size();
            for (int i = 0; i < n; i++) clips.add(new ClipBuffer<>(cfg.preSeconds(), cfg.postSeconds(), ringFrames, (long) ringMb << 20));
            scored = new long[n];
            skipped = new long[n];
            kept = new long[n];
            ended = new long[n];
            latencies = new double[n][1024];
            latencyCount = new int[n];
        }

        /** Whether the run ended on a stop request (a signal) rather than its sources' end. */
        boolean stopRequested;

        boolean seenAny() {
            return selector.stats().seen() > 0 || sources.stream().anyMatch(s -> s.dropped.get() > 0);
        }

        int failedSources() {
            return (int) sources.stream().filter(s -> "failed".equals(s.state)).count();
        }

        void loop() throws Exception {
            for (WatchSource s : sources) s.start();
            int open = sources.size();
            boolean[] done = new boolean[sources.size()];
            List<WatchSource.Frame> batch = new ArrayList<>();
            try {
                while (open > 0 && !stop.get()) {
                    arrivals.tryAcquire(200, TimeUnit.MILLISECONDS);
                    arrivals.drainPermits();
                    // the frames that arrived together: per live source all that wait (the newest is scored), per replayed source one
                    for (WatchSource s : sources) {
                        if (done[s.id]) continue;
                        logLost(s);
                        batch.clear();
                        if (s.live()) s.queue.drainTo(batch);
                        else {
                            WatchSource.Frame f = s.queue.pollFirst();
                            if (f != null) batch.add(f);
                        }
                        for (int i = 0; i < batch.size(); i++) {
                            WatchSource.Frame x = batch.get(i);
                            if (x == WatchSource.END) {
                                done[s.id] = true;
                                open--;
                                if (s.failure != null) {
                                    System.err.println("segsa watch: " + s.describe() + " failed: " + s.lastError.lines().findFirst().orElse("")
                                            + (sources.size() > 1 ? " (the other cameras go on)" : ""));
                                }
                                break;
                            }
                            boolean last = i == batch.size() - 1 || batch.get(i + 1) == WatchSource.END;
                            handle(x, !s.live() || last);
                        }
                        if (!s.live() && !batch.isEmpty() && !done[s.id]) arrivals.release();  // more may wait
                    }
                    maybeStatus();
                }
            } finally {
                stopRequested = stop.get();
                stop.set(true);
                for (WatchSource s : sources) s.interrupt();
                long deadline = System.nanoTime() + 1_500_000_000L;
                for (WatchSource s : sources) s.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
            for (WatchSource s : sources) logLost(s);
            for (StreamSelector.Decision d : selector.flush()) decided(d);
            for (int i = 0; i < sources.size(); i++) {
                ClipBuffer<WatchSource.Frame> c = clips.get(i);
                if (c.open(Double.POSITIVE_INFINITY) && c.openUntil() > lastSeconds(i) && sources.get(i).note == null) {
                    sources.get(i).note = String.format(Locale.ROOT, "the last post-roll was cut short at %.3f s (it ran to %.3f s)",
                            lastSeconds(i), c.openUntil());
                }
            }
            if (sources.size() == 1 && sources.getFirst().failure != null) {
                Throwable t = sources.getFirst().failure;
                throw new SegsaException(String.valueOf(t.getMessage()), t);
            }
        }

        private final Map<Integer, Double> lastSeen = new HashMap<>();

        private double lastSeconds(int source) {
            return lastSeen.getOrDefault(source, Double.NEGATIVE_INFINITY);
        }

        /** Frames a live source's full queue lost: logged as skipped, counted as seen. */
        private void logLost(WatchSource s) throws IOException {
            WatchSource.Frame f;
            while ((f = s.lost.pollFirst()) != null) {
                selector.skipped(s.id, 1);
                skipped[s.id]++;
                logSkipped(f, "lost before scoring: the queue was full (scoring slower than the source)");
            }
        }

        private void handle(WatchSource.Frame f, boolean score) throws IOException {
            int src = f.source().id;
            lastSeen.put(src, f.seconds());
            for (ClipBuffer.Timed<WatchSource.Frame> w : clips.get(src).push(f, f.index(), f.seconds(), f.bytes())) {
                output.writeFrame(src, f.source().name, w.frame().index(), w.frame().name(), w.frame().image());
            }
            if (!score) {
                selector.skipped(src, 1);
                skipped[src]++;
                logSkipped(f, "skipped: a newer frame of this source was waiting (scoring slower than the source)");
                return;
            }
            FrameResult r = engine.score(f.image(), f.name());
            scored[src]++;
            double latencyMs = (System.nanoTime() - f.arrivedNanos()) / 1e6;
            latencies[src][latencyCount[src]++ % latencies[src].length] = latencyMs;
            // the dHash only feeds the diversity gate
            FrameDescriptor descriptor = cfg.maxHamming() >= 0 ? DHash.descriptor(f.image()) : FrameDescriptor.NONE;
            long number = selector.seen();
            waiting.put(number, new Waiting(f, r.imageMdsa(), r.classAwareScore(), r.risk(), r.timings().totalNanos() / 1e6,
                    heatmap && r.scored() ? r.copyMdsaMap() : null, r.width(), r.height()));
            for (StreamSelector.Decision d : selector.offer(src, r, f.seconds(), descriptor, f.bytes())) decided(d);
        }

        private void decided(StreamSelector.Decision d) throws IOException {
            Waiting w = waiting.remove(d.frame());
            if (w == null) return;
            WatchSource.Frame f = w.frame();
            int src = f.source().id;
            ObjectNode o = line(f);
            o.put("keep", d.keep());
            o.put("skipped", false);
            o.put("rule", d.rule());
            WatchOutput.putNumber(o, "score", d.score());
            WatchOutput.putNumber(o, "threshold", d.threshold());
            o.put("reason", d.reason());
            WatchOutput.putNumber(o, "imageMdsa", w.imageMdsa());
            if (Double.isFinite(w.classAware())) o.put("classAware", w.classAware());
            if (Double.isFinite(w.risk())) o.put("risk", w.risk());
            o.put("latencyMs", w.latencyMs());
            o.put("decisionDelaySeconds", WatchOutput.plainSeconds(Math.max(0, lastSeconds(src) - f.seconds())));
            output.logDecision(o, d.keep());  // the decision first, then the kept frame's files
            if (!d.keep()) return;
            kept[src]++;
            if (dryRun) System.out.println(f.source().name + " " + f.name() + "  " + d);
            output.writeKept(src, f.source().name, f.index(), f.name(), f.image(), w.map(), w.mapWidth(), w.mapHeight(), w.imageMdsa());
            for (ClipBuffer.Timed<WatchSource.Frame> c : clips.get(src).keep(f.index(), f.seconds())) {
                output.writeFrame(src, f.source().name, c.frame().index(), c.frame().name(), c.frame().image());
            }
        }

        private ObjectNode line(WatchSource.Frame f) {
            ObjectNode o = WatchOutput.JSON.createObjectNode();
            o.put("source", f.source().name);
            o.put("frame", f.index());
            o.put("name", f.name());
            o.put("timeNs", f.timeNs());
            o.put("seconds", WatchOutput.plainSeconds(f.timeNs()));
            o.put("streamSeconds", WatchOutput.plainSeconds(f.seconds()));
            if (f.segment() > 0) o.put("timeSegment", f.segment());  // the source's clock went back this many times before it
            return o;
        }

        private void logSkipped(WatchSource.Frame f, String reason) throws IOException {
            ObjectNode o = line(f);
            o.put("keep", false);
            o.put("skipped", true);
            o.put("reason", reason);
            output.logDecision(o, false);
        }

        private void maybeStatus() throws IOException {
            long now = System.nanoTime();
            if (now - lastStatus < 2_000_000_000L) return;
            lastStatus = now;
            output.writeStatus(status(false));
            if (terminal) {
                StreamSelector.Stats s = selector.stats();
                double el = (now - started) / 1e9;
                System.err.printf(Locale.ROOT, "\rsegsa watch: %d sources, %d frames seen, %d scored (%.1f/s), %d skipped, %d kept (%.2f%%)   ",
                        sources.size(), s.seen(), s.scored(), s.scored() / el, s.skipped(), s.kept(), 100 * s.achievedShare());
            }
        }

        void finalStatus() throws IOException {
            output.writeStatus(status(true));
        }

        ObjectNode status(boolean last) {
            StreamSelector.Stats s = selector.stats();
            ObjectNode o = WatchOutput.JSON.createObjectNode();
            o.put("running", !last);
            if (last) o.put("reason", endReason == null ? "ended" : endReason);
            o.put("pid", ProcessHandle.current().pid());
            o.put("startedAt", startedAt);
            o.put("updatedAt", java.time.Instant.now().toString());
            o.put("elapsedSeconds", WatchOutput.plainSeconds((System.nanoTime() - started) / 1e9));
            o.put("framesSeen", s.seen());
            o.put("framesScored", s.scored());
            o.put("framesSkipped", s.skipped());
            o.put("framesKept", s.kept());
            o.put("framesWaitingForDecision", s.pending());
            if (last) o.put("framesNotScored", sources.stream().mapToLong(WatchSource::waiting).sum());
            o.put("framesWritten", output.framesWritten);
            o.put("clipsWritten", output.clipsWritten);
            o.put("achievedKeepShare", s.achievedShare());
            WatchOutput.putNumber(o, "keptPerMinute", s.keptPerMinute());
            o.put("budgetCredit", s.credit());
            o.put("pacedKeeps", s.pacedKeeps());
            o.put("overBudgetDrops", s.budgetDrops());
            o.put("nearDuplicateDrops", s.duplicateDrops());
            ObjectNode th = o.putObject("thresholds");
            for (int i = 0; i < cfg.triggers().size(); i++) {
                double v = selector.threshold(i);
                if (Double.isNaN(v)) th.putNull(cfg.triggers().get(i).name());
                else th.put(cfg.triggers().get(i).name(), v);
            }
            StageLatency.Stage frame = null;
            for (StageLatency.Stage st : engine.latency().stages()) if (st.name().equals(StageLatency.FRAME)) frame = st;
            if (frame != null) WatchOutput.putNumber(o, "p99ScoringMs", frame.p99Ms());
            var arr = o.putArray("sources");
            double el = (System.nanoTime() - started) / 1e9;
            for (WatchSource src : sources) {
                ObjectNode c = arr.addObject();
                int i = src.id;
                c.put("name", src.name);
                c.put("kind", src.kind.name().toLowerCase(Locale.ROOT));
                c.put("location", src.location.equals("-") ? "standard input" : src.location);
                if (src.topic != null) c.put("topic", src.topic);
                // on the final write: a source that had read ahead when the watch stopped did not end, its queued frames unscored
                long waiting = last ? src.waiting() : 0;
                c.put("state", last && stopRequested && waiting > 0 && "ended".equals(src.state) ? "stopped" : src.state);
                c.put("framesRead", src.framesRead.get());
                if (last) c.put("framesNotScored", waiting);
                c.put("framesScored", scored[i]);
                c.put("framesSkipped", skipped[i]);
                c.put("framesKept", kept[i]);
                c.put("badFramesSkipped", src.badFrames.get());
                c.put("reconnects", src.reconnectCount.get());
                c.put("clockWentBack", src.timeBase.segment());
                WatchOutput.putNumber(c, "scoredPerSecond", el > 0 ? scored[i] / el : Double.NaN);
                WatchOutput.putNumber(c, "p99LatencyMs", p99(i));
                if (src.lastError != null) c.put("lastError", src.lastError.lines().findFirst().orElse(""));
                if (src.note != null) c.put("note", src.note);
            }
            return o;
        }

        /** p99 of the last 1,024 arrival-to-scored latencies of a source. */
        private double p99(int source) {
            int n = Math.min(latencyCount[source], latencies[source].length);
            if (n == 0) return Double.NaN;
            double[] v = java.util.Arrays.copyOf(latencies[source], n);
            java.util.Arrays.sort(v);
            return v[Math.min(n - 1, (int) Math.ceil(0.99 * n) - 1)];
        }

        void summary() {
            if (terminal) System.err.println();
            StreamSelector.Stats s = selector.stats();
            System.out.printf(Locale.ROOT, "segsa watch: %d frames seen from %d source%s, %d scored, %d skipped (scoring slower than the "
                            + "source); kept %d (%.2f%% of the frames seen; %d paced, %d dropped over budget, %d near-duplicates), %d frames "
                            + "written%s%n", s.seen(), sources.size(), sources.size() == 1 ? "" : "s", s.scored(), s.skipped(), s.kept(),
                    100 * s.achievedShare(), s.pacedKeeps(), s.budgetDrops(), s.duplicateDrops(), output.framesWritten,
                    out == null || dryRun ? "" : " to " + out);
            if (sources.size() > 1) {
                for (WatchSource src : sources) {
                    System.out.printf(Locale.ROOT, "  %-12s %s: %d read, %d scored, %d skipped, %d kept, p99 latency %.0f ms%s%n", src.name,
                            src.state, src.framesRead.get(), scored[src.id], skipped[src.id], kept[src.id], p99(src.id),
                            src.reconnectCount.get() > 0 ? ", " + src.reconnectCount.get() + " reconnects" : "");
                }
            }
            long notScored = sources.stream().mapToLong(WatchSource::waiting).sum();
            if (notScored > 0) {
                System.err.println("segsa watch: note: " + notScored + " frames read ahead were not scored when the watch stopped "
                        + "(status.json: framesNotScored per source); they are in no decision line");
            }
            if (s.skipped() > 0 && sources.stream().anyMatch(x -> x.stream() && !scoreAll)) {
                System.err.println("segsa watch: note: " + s.skipped() + " frames were skipped because scoring was slower than the source; "
                        + "a recording piped in (not paced like a camera, e.g. without ffmpeg -re) scores every frame with --score-all");
            }
            for (int i = 0; i < sources.size(); i++) {
                if (clips.get(i).cutShort() > 0) {
                    System.err.println("segsa watch: note: " + sources.get(i).name + ": " + clips.get(i).cutShort() + " pre-roll frames had "
                            + "left the ring (--ring-frames " + ringFrames + ", --ring-mb " + ringMb + ") before the frame that wanted them was kept");
                }
                if (sources.get(i).note != null) System.err.println("segsa watch: note: " + sources.get(i).note);
            }
        }
    }
}
