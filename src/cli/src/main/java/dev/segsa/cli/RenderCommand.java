package dev.segsa.cli;

import dev.segsa.Segsa;
import dev.segsa.io.OutputFiles;
import dev.segsa.io.Progress;
import dev.segsa.model.ModelMetadata;
import dev.segsa.report.EvidenceVideo;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.video.VideoSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

@Command(name = "render", mixinStandardHelpOptions = true,
        description = {"Scores a sequence and writes the evidence video (MP4, H.264; the paper's Figure 6): input | prediction "
                + "overlay | label-vs-prediction difference (with --labels) / SA heatmap on a fixed colour scale | pixels above "
                + "the SA threshold | class table, a caption with the frame's time, image SA and chosen classes' SA, and a strip "
                + "chart of image SA over the recording. From a video (at its frame rate) or a folder of frames in file-name order.",
                "",
                "Example: segsa render --model m.pt --sa m.sa --video drive.mp4 --out evidence.mp4 --timeline timeline.png",
                "         segsa render --model m.pt --sa m.sa --images seq/ --labels seqannot/ --fps 10 --out evidence.mp4"})
final class RenderCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M.pt", description = "The TorchScript model the SA model was fitted with.")
    Path model;

    @Option(names = "--sa", required = true, paramLabel = "FILE", description = "SA model file written by segsa fit.")
    Path saFile;

    @Option(names = "--video", paramLabel = "FILE|URL", description = {"The video to render: a file, or what FFmpeg opens (a URL "
            + "such as rtsp://..., a camera /dev/video0, or - for a stream on standard input)."})
    String video;

    @Option(names = "--images", paramLabel = "DIR", description = "A folder of frames, in file-name order.")
    Path images;

    @Option(names = "--labels", paramLabel = "DIR", description = "With --images: masks, for the label-vs-prediction panel.")
    Path labels;

    @Option(names = "--fps", paramLabel = "F", converter = FiniteNumber.FrameRate.class, defaultValue = "10", description = "With --images: frames per second of the output (default ${DEFAULT-VALUE}).")
    double fps;

    @Option(names = "--every", paramLabel = "K", defaultValue = "1", description = "With --video: every K-th frame (the output rate is the source's / K).")
    int every;

    @Option(names = "--from", paramLabel = "S", converter = FiniteNumber.NonNegative.class, defaultValue = "0", description = "With --video: start time in seconds.")
    double fromSeconds;

    @Option(names = "--to", paramLabel = "S", converter = FiniteNumber.NonNegative.class, description = "With --video: end time in seconds (default: the end).")
    Double toSeconds;

    @Option(names = "--out", required = true, paramLabel = "FILE.mp4", description = "The evidence video to write.")
    Path out;

    @Option(names = "--sa-range", paramLabel = "LO,HI", converter = FiniteNumber.Any.class, split = ",",
            description = {"Fixed MDSA colour scale of the heatmap (default: 0 to the 99.5th percentile of the fit's reference pixels' "
                    + "MDSA, from the SA file; without references 0 to 3 sqrt(d))."})
    double[] saRange;

    @Option(names = "--sa-threshold", paramLabel = "T", converter = FiniteNumber.NonNegative.class, description = {"MDSA threshold of the 'above' panel (default: the 95th "
            + "percentile of the fit's reference pixels' MDSA; without references 2 sqrt(d))."})
    Double saThreshold;

    @Option(names = "--caption-classes", paramLabel = "NAMES", split = ",",
            description = "Classes whose class SA the caption shows (default: the 3 classes with the most training pixels).")
    List<String> captionClasses;

    @Option(names = "--panel-width", paramLabel = "PX", defaultValue = "480", description = "Width of each panel (default ${DEFAULT-VALUE}).")
    int panelWidth;

    @Option(names = "--still", paramLabel = "N", defaultValue = "-1", description = "Also write rendered frame N (0-based) as --still-out.")
    int still;

    @Option(names = "--still-out", paramLabel = "FILE.png", description = "The still frame to write (with --still).")
    Path stillOut;

    @Option(names = "--timeline", paramLabel = "FILE.png", description = "Also write the SA timeline chart of the sequence.")
    Path timeline;

    @Option(names = "--skip-fraction", paramLabel = "X", converter = FiniteNumber.Share.class, defaultValue = "0.3",
            description = "Of the timeline: frames below the X quantile of image SA are skipped, the rest shaded as sent for labelling.")
    double skipFraction;

    @Option(names = "--bitrate", paramLabel = "BPS", defaultValue = "4000000", description = "H.264 bit rate (default ${DEFAULT-VALUE}).")
    int bitrate;

    @Option(names = "--backend", paramLabel = "NAME", description = "SA kernels: auto (default), reference, native-cpu, cuda.")
    String backend;

    @Option(names = "--allow-model-mismatch", description = "Render although --model is not the file the SA model was fitted with.")
    boolean allowModelMismatch;

    @Option(names = "--trust-model", description = "Run the model without inspecting its TorchScript code first.")
    boolean trustModel;

    @Option(names = "--threads", paramLabel = "N", converter = ThreadCount.class,
            description = "Threads of inference and of the SA kernels (default: all cores); the output does not depend on it.")
    int threads;

    @Override
    public Integer call() {
        if ((video == null) == (images == null)) throw new IllegalArgumentException("give either --video FILE or --images DIR");
        if (video != null && labels != null) throw new IllegalArgumentException("--labels goes with --images");
        if ((still >= 0) != (stillOut != null)) throw new IllegalArgumentException("--still N and --still-out FILE go together");
        if (panelWidth < 64 || panelWidth > 1920) throw new IllegalArgumentException("--panel-width must be 64..1920");
        if (images != null && (every != 1 || fromSeconds != 0 || toSeconds != null)) {
            throw new IllegalArgumentException("--every, --from and --to apply to --video, not to --images (a folder of frames has no "
                    + "times): remove them");
        }
        for (Path p : new Path[] {model, ModelMetadata.sidecarOf(model), saFile, images, labels}) {
            OutputFiles.protect(p);
        }
        OutputFiles.protectSource(video);  // standard input, /dev/fd/N and file: URLs by what they are
        OutputFiles.checkWritableFile(out, "--out");
        if (stillOut != null) OutputFiles.checkWritableFile(stillOut, "--still-out");
        if (timeline != null) OutputFiles.checkWritableFile(timeline, "--timeline");
        SaModel sa = SaModelFile.read(saFile);
        double root = Math.sqrt(sa.settings().featureDimension());
        // the default scale comes from the fitted distribution: the MDSA of the fit's reference pixels under their own
        // class's model (a typical frame then spans the scale); sqrt(d) multiples only when the SA file has no references
        double[] q = referenceQuantiles(sa, 0.95, 0.995);
        double lo = saRange != null ? saRange[0] : 0;
        double hi = saRange != null ? saRange[1] : q != null ? q[1] : 3 * root;
        if (saRange != null && (saRange.length != 2 || !(hi > lo))) throw new IllegalArgumentException("--sa-range needs LO,HI with HI > LO");
        double threshold = saThreshold != null ? saThreshold : q != null ? q[0] : 2 * root;
        if (saRange == null || saThreshold == null) {
            System.out.printf(Locale.ROOT, "colour scale %s: %.1f..%.1f, threshold %.1f%n", q != null
                    ? "from the fit (MDSA of its reference pixels: threshold at their 95th percentile, top at the 99.5th)"
                    : "from the feature dimension (the SA file has no reference pixels: 3 and 2 x sqrt(d))", lo, hi, threshold);
        }
        List<Integer> caption = captionClasses(sa);
        EvidenceVideo.Settings s = new EvidenceVideo.Settings(out, panelWidth, lo, hi, threshold, caption, fps, still, stillOut,
                timeline, skipFraction, bitrate);
        try (Segsa engine = Segsa.builder(model, sa).saSource(saFile).backend(backend).allowModelMismatch(allowModelMismatch)
                .trustModel(trustModel).threads(threads).open()) {
            EvidenceVideo.Summary summary;
            long t0 = System.nanoTime();
            if (video != null) {
                VideoSource.Options o = new VideoSource.Options(every, fromSeconds, toSeconds == null ? Double.POSITIVE_INFINITY : toSeconds, 2);
                summary = EvidenceVideo.fromVideo(engine, video, o, s, total -> new Progress("render", total)::step);
            } else {
                summary = EvidenceVideo.fromFolder(engine, images, labels, s, total -> new Progress("render", total)::step);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %dx%d, %.2f fps; MDSA scale %.1f..%.1f, threshold %.1f) in %.1f s, "
                    + "%.2f frames/s rendered%n", out, summary.frames(), summary.width(), summary.height(), summary.fps(), lo, hi, threshold,
                    seconds, summary.frames() / seconds);
            if (timeline != null) System.out.println("wrote " + timeline);
            if (stillOut != null) System.out.println("wrote " + stillOut);
        }
        return 0;
    }

    /** Quantiles of the MDSA of the SA file's reference traces under their own class's model; null without references. */
    static double[] referenceQuantiles(SaModel sa, double... quantiles) {
        if (sa.references() == null) return null;
        var models = sa.mahalanobisModels(new ArrayList<>());
        int d = sa.settings().featureDimension();
        List<Double> values = new ArrayList<>();
        double[] x = new double[d], scratch = new double[d];
        for (int c = 0; c < models.length; c++) {
            if (models[c] == null || sa.references()[c] == null) continue;
            double[] ref = sa.references()[c];
            for (int i = 0; i + d <= ref.length; i += d) {
                System.arraycopy(ref, i, x, 0, d);
                double v = models[c].mdsa(x, scratch);
                if (Double.isFinite(v)) values.add(v);
            }
        }
        if (values.size() < 20) return null;
        values.sort(null);
        double[] out = new double[quantiles.length];
        for (int k = 0; k < quantiles.length; k++) out[k] = values.get((int) Math.min(values.size() - 1, Math.floor(quantiles[k] * values.size())));
        return out;
    }

    private List<Integer> captionClasses(SaModel sa) {
        List<String> names = sa.settings().classNames();
        List<Integer> out = new ArrayList<>();
        if (captionClasses != null) {
            for (String n : captionClasses) {
                int i = names.indexOf(n.trim());
                if (i < 0) throw new IllegalArgumentException("--caption-classes: no class '" + n + "' (classes: " + String.join(", ", names) + ")");
                out.add(i);
            }
            return out;
        }
        return IntStream.range(0, sa.classes()).boxed()
                .sorted(Comparator.comparingLong((Integer c) -> -sa.statistics()[c].count())).limit(3).toList();
    }
}
