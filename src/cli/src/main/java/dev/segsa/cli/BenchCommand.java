package dev.segsa.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameNormalizer;
import dev.segsa.features.FrameReader;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.OutputFiles;
import dev.segsa.io.Progress;
import dev.segsa.kernel.Backend;
import dev.segsa.kernel.Backends;
import dev.segsa.kernel.FrameScores;
import dev.segsa.kernel.NativeCpuBackend;
import dev.segsa.kernel.PadimPeer;
import dev.segsa.model.FrameOutput;
import dev.segsa.model.LibTorch;
import dev.segsa.model.SegmentationModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.StageLatency;
import org.bytedeco.javacpp.PointerScope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures segsa on your model and machine: frames/s through the front door, per-stage latency "
                + "(p50 / p99 / p99.9 of decode, forward, post-forward, SA and with --lsa LSA), the bare forward (module.forward alone, nothing "
                + "after it) timed in the same run on the same frames (the two alternate every 4 frames), segsa's overhead = (frame time - decode - bare forward) / "
                + "bare forward, pixels/s of the MDSA kernel and of the "
                + "PaDiM-style LibTorch peer on the same frames in the same run, and the machine. One row per --threads count. "
                + "Without --sa a throwaway SA model is fitted on the frames first (labelled by the model's own predictions). "
                + "With --segments or --risk the engine with segments (and risk) on, the same engine without them and the bare "
                + "forward alternate every 4 frames, so that one run gives the overhead with and without them.",
                "",
                "Every thread count is measured --repeats times, the thread counts in turn within each repeat, and the table "
                + "and the JSON give the median and the min-max of frames/s and of the overhead per thread count. "
                + "--compare a.json b.json compares two such JSON files.",
                "",
                "Example: segsa bench --model camvid.pt --frames camvid/val --seconds 10 --threads 1,2 --json bench.json",
                "         segsa bench --compare before.json after.json"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "M.pt", description = "The TorchScript model (required unless --compare).")
    Path model;

    @Option(names = "--sa", paramLabel = "FILE", description = "An SA model of the model (default: a throwaway one fitted on the frames).")
    Path saFile;

    @Option(names = "--frames", paramLabel = "DIR", description = "Frames to score (up to 64 are decoded into memory and cycled).")
    Path frames;

    @Option(names = "--synthetic", paramLabel = "WxH", description = "Seeded synthetic frames of this size instead of --frames (default 480x360).")
    String synthetic;

    @Option(names = "--seconds", paramLabel = "N", converter = FiniteNumber.PositiveSeconds.class, defaultValue = "10", description = "Measured seconds per thread count and repeat (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "3", description = "Measure every thread count N times, "
            + "the thread counts in turn within each repeat, so that the machine's drift meets all alike; the median and the "
            + "min-max per thread count are reported (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--compare", arity = "2", paramLabel = "FILE", description = "Compare two bench JSON files (--json): per "
            + "thread count in both, the medians, the change in %% and whether it exceeds the spread (min-max) of the repeats. "
            + "Measures nothing.")
    List<Path> compare;

    @Spec
    CommandSpec spec;

    @Option(names = "--threads", paramLabel = "N,N,...", split = ",", converter = ThreadCount.class, description = "Thread counts to measure (default: all cores).")
    List<Integer> threads;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Option(names = "--trust-model", description = "Run the model without inspecting its TorchScript code first.")
    boolean trustModel;

    @Option(names = "--optimize-model", description = "Score with the frozen model (checked against "
            + "the original on the first frame, as in score); the bare forward stays the original module's.")
    boolean optimizeModel;

    @Option(names = "--uncertainty", description = "Also compute the softmax uncertainty baselines (entropy, margin, 1-p, DeepGini) per frame.")
    boolean uncertainty;

    @Option(names = "--segments", description = "Also find every frame's segments and their features (as score --segments), "
            + "and measure the engine without them in the same run (alternating).")
    boolean segments;

    @Option(names = "--risk", paramLabel = "FILE", description = "A risk model (segsa fit-risk) of the --sa model: every frame gets "
            + "its risk (turns --segments on); the engine without segments and risk is measured in the same run.")
    Path riskFile;

    @Option(names = "--lsa", description = "Also compute LSA per frame (needs an SA model with LSA references: --sa, "
            + "or the throwaway one, fitted with 1000 references when --lsa is given).")
    boolean lsa;

    /**
     * One thread count's figures. Means in ms: {@code frameMs} the whole frame through the engine, {@code decodeMs} its
     * conversion to the model input, {@code bareForwardMs} module.forward alone on the same inputs;
     * {@code overhead} = (frameMs - decodeMs - bareForwardMs) / bareForwardMs.
     */
    record Row(int threads, long frames, double framesPerSecond, StageLatency latency, StageLatency bare, double frameMs,
               double decodeMs, double bareForwardMs, double overhead, double kernelPixelsPerSecond, double peerPixelsPerSecond,
               double kernelMs, double peerMs, Plain plain, int repeat, double lsaMs, double lsaPixelsPerSecond) {
        /** Frames/s of the bare forward (1 / its mean). */
        double bareForwardPerSecond() {
            return 1000.0 / bareForwardMs;
        }

        /** The engine's rate without decode, as a share of the bare forward's rate. */
        double rateShareOfBare() {
            return bareForwardMs / (frameMs - decodeMs);
        }
    }

    /**
     * With --segments / --risk: the same engine without segments and risk, alternating with the
     * other two in the same run; {@code overhead} as {@link Row#overhead} against the same bare forward.
     */
    record Plain(long frames, double framesPerSecond, StageLatency latency, double frameMs, double decodeMs, double overhead) {}

    static final String BARE_FORWARD = "bare-forward";

    /**
     * Version of the --json layout (2: the bare forward, the stage split and the overhead of 2026-12-04; 3: repeats with
     * median and min-max, every setting, the environment, LSA as its own stage, {@code $schema}).
     */
    static final int JSON_SCHEMA_VERSION = 3;

    /** The JSON Schema of the --json layout: a resource of segsa's cli jar; the JSON's {@code $schema} names it. */
    static final String JSON_SCHEMA_RESOURCE = "bench.schema.json";
    static final String JSON_SCHEMA_ID = "https://segsa.dev/schemas/bench-3.schema.json";

    /** Below this many frames a percentile rests on too few to mean much: the JSON and the table say so. */
    static final int FEW_FRAMES = 100;

    @Override
    public Integer call() throws Exception {
        if (compare != null) return BenchCompare.compare(compare.get(0), compare.get(1), System.out);
        if (model == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--model=M.pt' (or --compare a.json b.json)");
        }
        if (repeats < 1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--repeats must be at least 1, got " + repeats);
        if (frames != null && synthetic != null) throw new IllegalArgumentException("give --frames or --synthetic, not both");
        double[] loadBefore = BenchEnvironment.loadAverage();
        OutputFiles.protect(model);
        OutputFiles.protect(saFile);
        OutputFiles.protect(frames);
        OutputFiles.protect(riskFile);
        if (riskFile != null && saFile == null) {
            throw new IllegalArgumentException("--risk needs --sa: the SA model its risk model was fitted for");
        }
        dev.segsa.risk.RiskModel risk = riskFile == null ? null : dev.segsa.risk.RiskModelFile.read(riskFile);
        boolean withSegments = segments || risk != null;
        if (json != null) OutputFiles.checkWritableFile(json, "--json");
        List<BufferedImage> images = frames != null ? readFrames(frames) : syntheticFrames(synthetic == null ? "480x360" : synthetic);
        Path sa = saFile;
        Path tmpSa = null;
        if (sa == null) {
            tmpSa = Files.createTempFile("segsa-bench", ".sa");
            int fitFrames = Math.min(images.size(), 16);
            Progress progress = new Progress("segsa bench: fitting the throwaway SA model:", fitFrames);
            try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(lsa ? 1000 : 0).trustModel(trustModel).open()) {
                for (int i = 0; i < fitFrames; i++) {
                    fit.addSelfLabelled("frame" + i, images.get(i));
                    progress.step();
                }
                SaModelFile.write(fit.finish(), tmpSa);
            }
            sa = tmpSa;
        }
        try {
            SaModel saModel = SaModelFile.read(sa);
            if (risk != null) risk.requireFor(saModel, riskFile);
            List<Integer> counts = threads == null || threads.isEmpty() ? List.of(Runtime.getRuntime().availableProcessors()) : threads;
            String saSha256 = BenchEnvironment.sha256(sa);
            List<Row> rows = new ArrayList<>();
            String backendName = null, isa = "-";
            // a run = one repeat of one thread count: its warm-up, --seconds, and the kernel and peer pass (the peer is slow);
            // redrawn on a terminal, a line every 30 s in a log
            dev.segsa.io.Progress progress = new dev.segsa.io.Progress("segsa bench", repeats * counts.size(), "runs");
            // repeat after repeat, the thread counts in turn: a drift of the machine's speed meets every count alike
            for (int rep = 1; rep <= repeats; rep++) for (int t : counts) {
                try (Segsa engine = Segsa.builder(model, saModel).saSource(sa).allowModelMismatch(saFile == null).trustModel(trustModel)
                        .lsa(lsa).uncertainty(uncertainty).optimizeModel(optimizeModel).threads(t).segments(withSegments).riskModel(risk).open();
                     Segsa plain = !withSegments ? null : Segsa.builder(model, saModel).saSource(sa).allowModelMismatch(saFile == null)
                             .trustModel(trustModel).lsa(lsa).uncertainty(uncertainty).optimizeModel(optimizeModel).threads(t).open()) {
                    backendName = engine.backend();
                    rows.add(measure(engine, plain, saModel, images, t, rep));
                    if (rep == 1 && engine.optimizationReport() != null) System.err.println("segsa bench: " + engine.optimizationReport());
                }
                progress.step();
            }
            if (Backends.select(null) instanceof NativeCpuBackend n) {
                isa = n.isa();
                n.close();
            }
            double[] loadAfter = BenchEnvironment.loadAverage();
            List<BenchStats> stats = BenchStats.of(rows, counts);
            String table = table(stats, saModel, images, backendName, isa);
            System.out.println(table);
            if (json != null) writeJson(json, stats, saModel, images, backendName, isa, saSha256, loadBefore, loadAfter);
            return 0;
        } finally {
            Backends.setKernelThreads(0);
            LibTorch.setThreads(Runtime.getRuntime().availableProcessors());
            if (tmpSa != null) Files.deleteIfExists(tmpSa);
        }
    }

    /** {@code plain}: the engine without segments and risk (null when they are off), a third arm of the alternation. */
    private Row measure(Segsa engine, Segsa plain, SaModel sa, List<BufferedImage> images, int threads, int repeat) {
        SaModel.FitSettings s = sa.settings();
        FrameNormalizer norm = new FrameNormalizer(s.mean(), s.std(), s.resize());
        StageLatency bare = new StageLatency();
        try (SegmentationModel bareModel = SegmentationModel.load(model, s.upsample(), trustModel)) {
            // 2 s of warm-up, or --seconds when that is shorter (a quick run stays quick with repeats)
            long warmEnd = System.nanoTime() + (long) (Math.min(2.0, seconds) * 1e9);
            int i = 0;
            while (System.nanoTime() < warmEnd || i < 3) {
                engine.score(images.get(i % images.size()), "warm-up");
                if (plain != null) plain.score(images.get(i % images.size()), "warm-up");
                bareForward(bareModel, norm, images.get(i % images.size()), null);
                i++;
            }
            engine.resetLatency();
            if (plain != null) plain.resetLatency();
            // the engine and the bare forward (and the engine without segments) alternate in rounds of ROUND
            // frames, so that all see the same machine (these VMs' speed drifts by tens of percent within a minute)
            long end = System.nanoTime() + (long) (seconds * 1e9), engineNanos = 0, plainNanos = 0, n = 0, k = 0, q = 0;
            while (System.nanoTime() < end || n < 3) {
                long a = System.nanoTime();
                for (int r = 0; r < ROUND; r++) engine.score(images.get((int) (n++ % images.size())), "frame");
                engineNanos += System.nanoTime() - a;
                if (plain != null) {
                    long b = System.nanoTime();
                    for (int r = 0; r < ROUND; r++) plain.score(images.get((int) (q++ % images.size())), "frame");
                    plainNanos += System.nanoTime() - b;
                }
                for (int r = 0; r < ROUND; r++) bareForward(bareModel, norm, images.get((int) (k++ % images.size())), bare);
            }
            StageLatency lat = engine.latency();
            double frameMs = stage(lat, StageLatency.FRAME).meanMs(), decodeMs = stage(lat, StageLatency.DECODE).meanMs();
            double bareMs = stage(bare, BARE_FORWARD).meanMs();
            Plain p = null;
            if (plain != null) {
                StageLatency pl = plain.latency();
                double pf = stage(pl, StageLatency.FRAME).meanMs(), pd = stage(pl, StageLatency.DECODE).meanMs();
                p = new Plain(q, q / (plainNanos / 1e9), pl, pf, pd, (pf - pd - bareMs) / bareMs);
            }
            double[] kernelAndPeer = kernelAndPeer(sa, images);
            int[] size = engine.outputSize(images.get(0).getWidth(), images.get(0).getHeight());
            double pixels = (double) size[0] * size[1];
            return new Row(threads, n, n / (engineNanos / 1e9), lat, bare, frameMs, decodeMs, bareMs, (frameMs - decodeMs - bareMs) / bareMs,
                    pixels / (kernelAndPeer[0] / 1e3), pixels / (kernelAndPeer[1] / 1e3), kernelAndPeer[0], kernelAndPeer[1], p, repeat,
                    kernelAndPeer[2], lsa ? pixels / (kernelAndPeer[2] / 1e3) : Double.NaN);
        }
    }

    /** Frames per round of the alternation between the engine and the bare forward. */
    private static final int ROUND = 4;

    /**
     * The bare-forward reference on one frame: the same model file at the same thread count,
     * {@code module.forward} alone (the input is filled before the clock starts; nothing runs after
     * the forward), recorded into {@code into} (null: a warm-up).
     */
    private static void bareForward(SegmentationModel m, FrameNormalizer norm, BufferedImage img, StageLatency into) {
        int w = norm.outputWidth(img.getWidth()), h = norm.outputHeight(img.getHeight());
        norm.fromImage(img, m.input(h, w), "frame");
        try (PointerScope scope = new PointerScope()) {
            long a = System.nanoTime();
            m.forwardOnly(h, w);
            long b = System.nanoTime();
            if (into != null) into.record(BARE_FORWARD, b - a);
        }
    }

    /**
     * ms per frame of the fused MDSA kernel and of the PaDiM-style peer, on the same feature maps, and with --lsa of the
     * LSA kernel alone (timed apart from the engine, whose {@code lsa} stage times the same kernel inside the frame; NaN without --lsa).
     */
    private double[] kernelAndPeer(SaModel sa, List<BufferedImage> images) {
        MahalanobisModel[] models = sa.mahalanobisModels(new ArrayList<>());
        MahalanobisModel first = null;
        for (MahalanobisModel m : models) if (m != null && first == null) first = m;
        if (first == null) throw new SegsaException("the SA model has no class with an MDSA model");
        SaModel.FitSettings s = sa.settings();
        FrameNormalizer norm = new FrameNormalizer(s.mean(), s.std(), s.resize());
        int frames = Math.min(images.size(), 8);
        long kernelNanos = 0, peerNanos = 0, lsaNanos = 0;
        dev.segsa.samodel.KdeModel[] kde = lsa ? sa.kdeModels(new ArrayList<>()) : null;
        FrameScores lsaScores = new FrameScores(sa.classes());
        double sink = 0;
        try (SegmentationModel m = SegmentationModel.load(model, s.upsample(), trustModel);
             Backend kernel = Backends.select(null);
             PadimPeer peer = new PadimPeer(first)) {
            FrameScores scores = new FrameScores(sa.classes());
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < frames; i++) {
                    BufferedImage img = images.get(i);
                    int w = norm.outputWidth(img.getWidth()), h = norm.outputHeight(img.getHeight());
                    norm.fromImage(img, m.input(h, w), "frame");
                    try (PointerScope scope = new PointerScope()) {
                        FrameOutput out = m.infer(h, w, "frame", false);
                        scores.reset(h * w);
                        long a = System.nanoTime();
                        kernel.mdsa(out.features(), s.upsample(), h, w, out.predicted(), models, scores);
                        long b = System.nanoTime();
                        sink += peer.frame(out.features(), s.upsample(), h, w);
                        long c = System.nanoTime();
                        if (kde != null) {
                            lsaScores.reset(0);
                            kernel.lsa(out.features(), s.upsample(), h, w, out.predicted(), kde, lsaScores);
                        }
                        long d = System.nanoTime();
                        if (round == 1) {
                            kernelNanos += b - a;
                            peerNanos += c - b;
                            lsaNanos += d - c;
                        }
                    }
                }
            }
        }
        if (Double.isNaN(sink)) System.err.println("segsa bench: note: the peer gave NaN");
        return new double[] {kernelNanos / 1e6 / frames, peerNanos / 1e6 / frames, kde == null ? Double.NaN : lsaNanos / 1e6 / frames};
    }

    private static List<BufferedImage> readFrames(Path dir) {
        List<BufferedImage> out = new ArrayList<>();
        for (Path p : FrameReader.listFrames(dir)) {
            if (out.size() == 64) break;
            out.add(FrameReader.readImage(p));
        }
        return out;
    }

    private static List<BufferedImage> syntheticFrames(String size) {
        String[] p = size.toLowerCase(Locale.ROOT).split("x");
        int w, h;
        try {
            w = Integer.parseInt(p[0]);
            h = Integer.parseInt(p[1]);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--synthetic must look like 480x360, got '" + size + "'");
        }
        FrameNormalizer.checkSize(w, h, "--synthetic");
        SplittableRandom r = new SplittableRandom(7);
        List<BufferedImage> out = new ArrayList<>();
        for (int f = 0; f < 8; f++) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            double cx = r.nextDouble(w), cy = r.nextDouble(h), rad = Math.max(4, Math.min(w, h) / 4.0);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double k = Math.exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * rad * rad));
                    int red = (int) (60 + 150 * k + r.nextInt(12)), g = (int) (90 + 100.0 * y / h), b = (int) (150 - 80 * k);
                    img.setRGB(x, y, (Math.min(255, red) << 16) | (Math.min(255, g) << 8) | Math.max(0, b));
                }
            }
            out.add(img);
        }
        return out;
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) {
            // not Linux: the table says unknown
        }
        return "unknown";
    }

    private String table(List<BenchStats> stats, SaModel sa, List<BufferedImage> images, String backend, String isa) {
        List<Row> rows = stats.stream().map(BenchStats::typical).toList();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "machine: %s, %d cores; kernels %s (%s); model %s, d=%d, %d classes; frames %dx%d (%d in memory)%s%n",
                cpuModel(), Runtime.getRuntime().availableProcessors(), backend, isa, model.getFileName(), sa.settings().featureDimension(),
                sa.classes(), images.get(0).getWidth(), images.get(0).getHeight(), images.size(),
                (lsa ? "; with LSA" : "") + (uncertainty ? "; with uncertainty" : "")
                        + (riskFile != null ? "; with segments and risk" : segments ? "; with segments" : "")));
        b.append(String.format(Locale.ROOT, "%d repeat%s of %s s per thread count, the thread counts in turn; frames/s and overhead: "
                + "median and min-max of the repeats, the rest from the median repeat%n", repeats, repeats == 1 ? "" : "s", seconds));
        b.append(String.format(Locale.ROOT, "%7s %7s %9s %17s %9s %8s %8s %8s %8s %8s %9s %9s %15s %11s %10s %7s%s%n", "threads", "frames", "frames/s",
                "f/s min-max", "bare f/s", "bare p50", "fwd p50", "post p50", "sa p50", "dec p50", "frame p99", "overhead", "ovh min-max",
                "kernel px/s", "peer px/s", "ratio", lsa ? "    lsa px/s  lsa p50" : ""));
        for (BenchStats st : stats) {
            Row r = st.typical();
            StageLatency.Stage fw = stage(r.latency(), StageLatency.FORWARD), post = stage(r.latency(), StageLatency.POST_FORWARD),
                    saSt = stage(r.latency(), StageLatency.SA), dec = stage(r.latency(), StageLatency.DECODE),
                    fr = stage(r.latency(), StageLatency.FRAME), bare = stage(r.bare(), BARE_FORWARD);
            b.append(String.format(Locale.ROOT, "%7d %7d %9.2f %17s %9.2f %8.2f %8.2f %8.2f %8.2f %8.2f %9.1f %8.1f%% %15s %10.3gM %9.3gM %6.1fx%s%n",
                    r.threads(), r.frames(), st.framesPerSecond().median(),
                    String.format(Locale.ROOT, "%.2f-%.2f", st.framesPerSecond().min(), st.framesPerSecond().max()),
                    r.bareForwardPerSecond(), bare.p50Ms(), fw.p50Ms(), post.p50Ms(),
                    saSt.p50Ms(), dec.p50Ms(), fr.p99Ms(), 100 * st.overhead().median(),
                    String.format(Locale.ROOT, "%.1f%%-%.1f%%", 100 * st.overhead().min(), 100 * st.overhead().max()),
                    r.kernelPixelsPerSecond() / 1e6, r.peerPixelsPerSecond() / 1e6, r.peerMs() / r.kernelMs(),
                    lsa ? String.format(Locale.ROOT, " %10.3gM %8.2f", st.lsaPixelsPerSecond().median() / 1e6,
                            stage(r.latency(), StageLatency.LSA).p50Ms()) : ""));
        }
        for (Row r : rows) {
            if (r.plain() == null) continue;
            Plain p = r.plain();
            StageLatency.Stage post = stage(p.latency(), StageLatency.POST_FORWARD), saSt = stage(p.latency(), StageLatency.SA),
                    fr = stage(p.latency(), StageLatency.FRAME);
            b.append(String.format(Locale.ROOT, "%7d without %s (same run): %d frames, %.2f frames/s, post p50 %.2f, sa p50 %.2f, frame p99 %.1f, "
                            + "overhead %.1f%%; %s add %.2f ms a frame (means), overhead %+.1f points%n", r.threads(),
                    riskFile != null ? "segments and risk" : "segments", p.frames(), p.framesPerSecond(), post.p50Ms(), saSt.p50Ms(),
                    fr.p99Ms(), 100 * p.overhead(), riskFile != null ? "segments and risk" : "segments",
                    (r.frameMs() - r.decodeMs()) - (p.frameMs() - p.decodeMs()), 100 * (r.overhead() - p.overhead())));
        }
        for (Row r : rows) {
            if (r.frames() < FEW_FRAMES) {
                b.append(String.format(Locale.ROOT, "note: %d thread%s: p99 rests on %d frames (fewer than %d): raise --seconds%n",
                        r.threads(), r.threads() == 1 ? "" : "s", r.frames(), FEW_FRAMES));
            }
        }
        b.append("latency in ms. bare = module.forward alone on the same frames in the same run; fwd = the engine's forward; "
                + "post = segsa's pass over the model's outputs (argmax, non-finite checks, uncertainty; with segments also the entropy, "
                + "margin and probability maps); sa = the SA stage but LSA (with segments also the segments pass and the risk); "
                + "lsa = the engine's LSA kernel, on the frames that got LSA; "
                + "dec = conversion to the model input.\n"
                + "overhead = (frame - decode - bare forward) / bare forward, from the means (segsa's cost on top of the model's own). "
                + "ratio = peer time / kernel time on the same feature maps (the peer whitens every pixel with one class's matrix). "
                + (lsa ? "lsa px/s = the LSA kernel alone on the same feature maps (lsa p50: the engine's own LSA stage). " : "")
                + "p99.9 and means in --json.");
        return b.toString();
    }

    /** LSA references over all classes (0 when the SA model has none). */
    private static long lsaReferences(SaModel sa) {
        if (sa.references() == null) return 0;
        long n = 0;
        int d = sa.settings().featureDimension();
        for (double[] r : sa.references()) if (r != null) n += r.length / d;
        return n;
    }

    private static StageLatency.Stage stage(StageLatency l, String name) {
        for (StageLatency.Stage s : l.stages()) if (s.name().equals(name)) return s;
        return new StageLatency.Stage(name, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    private static void putStages(ObjectNode st, List<StageLatency.Stage> stages) {
        for (StageLatency.Stage s : stages) {
            ObjectNode x = st.putObject(s.name());
            x.put("frames", s.count());
            x.put("mean", s.meanMs());
            x.put("p50", s.p50Ms());
            x.put("p99", s.p99Ms());
            x.put("p999", s.p999Ms());
            x.put("max", s.maxMs());
        }
    }

    private static ObjectNode putSpread(ObjectNode o, String name, BenchStats.Spread s, List<Row> repeats,
                                        java.util.function.ToDoubleFunction<Row> value) {
        ObjectNode x = o.putObject(name);
        x.put("median", s.median());
        x.put("min", s.min());
        x.put("max", s.max());
        ArrayNode v = x.putArray("values");
        for (Row r : repeats) v.add(value.applyAsDouble(r));
        return x;
    }

    private static void putLoad(ObjectNode o, String name, double[] load) {
        ArrayNode a = o.putArray(name);
        for (double l : load) {
            if (Double.isNaN(l)) a.addNull();
            else a.add(l);
        }
    }

    /** The command line as given (picocli's original arguments), after "segsa". */
    private List<String> commandLine() {
        List<String> out = new ArrayList<>(List.of("segsa"));
        try {
            picocli.CommandLine root = spec.commandLine();
            while (root.getParent() != null) root = root.getParent();
            picocli.CommandLine.ParseResult pr = root.getParseResult();
            if (pr != null) out.addAll(pr.originalArgs());
        } catch (RuntimeException ignored) {
            // no parse result (called without picocli): the command line stays "segsa"
        }
        return out;
    }

    private void writeJson(Path out, List<BenchStats> stats, SaModel sa, List<BufferedImage> images, String backend, String isa,
                           String saSha256, double[] loadBefore, double[] loadAfter) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        // the JSON's schema: bench.schema.json (a resource of the cli jar) and README, "bench"; its version changes when a
        // field changes meaning or goes
        root.put("$schema", JSON_SCHEMA_ID);
        root.put("schemaVersion", JSON_SCHEMA_VERSION);
        root.put("timestamp", java.time.Instant.now().toString());
        String[] version = new SegsaCommand.Version().getVersion();
        root.put("segsa", version[0]);
        root.put("jdk", Runtime.version().toString());
        root.put("segsaVersion", SegsaCommand.version());
        root.put("libtorch", "2.10.0-1.5.13 (JavaCPP presets)");
        ArrayNode cl = root.putArray("commandLine");
        for (String arg : commandLine()) cl.add(arg);
        ObjectNode machine = root.putObject("machine");
        machine.put("cpu", cpuModel());
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("backend", backend);
        machine.put("isa", isa);
        ObjectNode os = root.putObject("os");
        os.put("name", System.getProperty("os.name"));
        os.put("version", System.getProperty("os.version"));
        os.put("arch", System.getProperty("os.arch"));
        putLoad(root, "loadAverageBefore", loadBefore);
        putLoad(root, "loadAverageAfter", loadAfter);
        root.put("repeats", repeats);
        root.put("secondsPerRepeat", seconds);
        List<Integer> counts = new ArrayList<>();
        for (BenchStats st : stats) counts.add(st.threads());
        ArrayNode th = root.putArray("threads");
        for (int t : counts) th.add(t);
        ObjectNode src = root.putObject("framesSource");
        if (frames != null) {
            src.put("kind", "directory");
            src.put("path", frames.toString());
        } else {
            src.put("kind", "synthetic");
            src.put("size", synthetic == null ? "480x360" : synthetic);
        }
        src.put("framesInMemory", images.size());
        if (saFile != null) root.put("sa", saFile.toString());
        else root.putNull("sa");
        root.put("saThrowaway", saFile == null);
        root.put("saSha256", saSha256);
        root.put("lsaReferences", lsaReferences(sa));
        root.put("optimizeModel", optimizeModel);
        root.put("trustModel", trustModel);
        root.put("model", model.toString());
        root.put("featureDimension", sa.settings().featureDimension());
        root.put("classes", sa.classes());
        root.put("frameWidth", images.get(0).getWidth());
        root.put("frameHeight", images.get(0).getHeight());
        root.put("lsa", lsa);
        root.put("uncertainty", uncertainty);
        root.put("segments", segments || riskFile != null);
        if (riskFile != null) root.put("risk", riskFile.toString());
        else root.putNull("risk");
        ArrayNode a = root.putArray("runs");
        for (BenchStats st : stats) {
            Row r = st.typical();
            ObjectNode o = a.addObject();
            o.put("threads", r.threads());
            o.put("frames", r.frames());
            o.put("framesPerSecond", r.framesPerSecond());
            o.put("bareForwardPerSecond", r.bareForwardPerSecond());
            o.put("frameMeanMs", r.frameMs());
            o.put("decodeMeanMs", r.decodeMs());
            o.put("bareForwardMeanMs", r.bareForwardMs());
            o.put("overhead", r.overhead());
            o.put("rateShareOfBareForward", r.rateShareOfBare());
            o.put("kernelMsPerFrame", r.kernelMs());
            o.put("peerMsPerFrame", r.peerMs());
            o.put("kernelPixelsPerSecond", r.kernelPixelsPerSecond());
            o.put("peerPixelsPerSecond", r.peerPixelsPerSecond());
            // the figures above and latencyMs are the median repeat's (by frames/s); the spreads are over all repeats
            o.put("medianRepeat", r.repeat());
            putSpread(o, "framesPerSecondStats", st.framesPerSecond(), st.repeats(), Row::framesPerSecond);
            putSpread(o, "overheadStats", st.overhead(), st.repeats(), Row::overhead);
            if (lsa) {
                o.put("lsaMsPerFrame", r.lsaMs());
                o.put("lsaPixelsPerSecond", r.lsaPixelsPerSecond());
                putSpread(o, "lsaPixelsPerSecondStats", st.lsaPixelsPerSecond(), st.repeats(), Row::lsaPixelsPerSecond);
            }
            ArrayNode reps = o.putArray("repeats");
            for (Row x : st.repeats()) {
                ObjectNode y = reps.addObject();
                y.put("repeat", x.repeat());
                y.put("frames", x.frames());
                y.put("framesPerSecond", x.framesPerSecond());
                y.put("bareForwardPerSecond", x.bareForwardPerSecond());
                y.put("overhead", x.overhead());
            }
            if (r.frames() < FEW_FRAMES) {
                o.put("warning", "p99 and p99.9 rest on " + r.frames() + " frames (fewer than " + FEW_FRAMES + "): raise --seconds");
            }
            List<StageLatency.Stage> stages = new ArrayList<>(r.latency().stages());
            stages.addAll(r.bare().stages());
            putStages(o.putObject("latencyMs"), stages);
            if (r.plain() != null) {
                // the same engine without segments and risk, alternating in the same run; overhead against the same bare forward
                Plain p = r.plain();
                ObjectNode w = o.putObject("withoutSegments");
                w.put("frames", p.frames());
                w.put("framesPerSecond", p.framesPerSecond());
                w.put("frameMeanMs", p.frameMs());
                w.put("decodeMeanMs", p.decodeMs());
                w.put("overhead", p.overhead());
                w.put("segmentsAddMs", (r.frameMs() - r.decodeMs()) - (p.frameMs() - p.decodeMs()));
                putStages(w.putObject("latencyMs"), p.latency().stages());
            }
        }
        try {
            AtomicOutput.write(out, m.writerWithDefaultPrettyPrinter().writeValueAsString(root).getBytes(StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
