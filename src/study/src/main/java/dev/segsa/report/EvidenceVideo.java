package dev.segsa.report;

import dev.segsa.videoscore.SegsaVideo;
import dev.segsa.FrameFiles;
import dev.segsa.Segsa;
import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.score.FrameResult;
import dev.segsa.video.VideoSource;
import dev.segsa.video.VideoWriter;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code segsa render}: scores a sequence (a video, or a folder of frames in file-name order,
 * with masks when given) and writes the evidence video, one {@link EvidenceFrame} per frame at the
 * source's rate; optionally one frame as a PNG still, and the {@link SaTimeline} of the whole
 * sequence. Memory stays flat: one composite image and the maps are reused.
 */
public final class EvidenceVideo {
    private EvidenceVideo() {}

    /**
     * @param lo, hi          the fixed MDSA colour scale
     * @param threshold       MDSA threshold of the "above" panel
     * @param captionClasses  class ids shown in the caption
     * @param fps             frame rate for a folder of frames (a video keeps its own rate / every)
     * @param stillFrame      index (in the rendered sequence) of the frame also written as {@code still}, or -1
     * @param skipFraction    of the timeline's threshold
     */
    public record Settings(Path out, int panelWidth, double lo, double hi, double threshold, List<Integer> captionClasses,
                           double fps, int stillFrame, Path still, Path timeline, double skipFraction, int bitsPerSecond) {}

    /** What was rendered. */
    public record Summary(int frames, double fps, int width, int height, List<SaTimeline.Point> points) {}

    /** @param progressOf given the number of frames to render, what to call after each (e.g. a progress bar's step) */
    public static Summary fromVideo(Segsa engine, Path video, VideoSource.Options options, Settings s,
                                    java.util.function.IntFunction<Runnable> progressOf) {
        return fromVideo(engine, video.toString(), options, s, progressOf);
    }

    /** @param video what FFmpeg opens: a file, a URL, a camera, or - for standard input (opened once) */
    public static Summary fromVideo(Segsa engine, String video, VideoSource.Options options, Settings s,
                                    java.util.function.IntFunction<Runnable> progressOf) {
        try (VideoSource source = VideoSource.openSource(video, options)) {
            return fromSource(engine, source, video, options, s, progressOf);
        }
    }

    private static Summary fromSource(Segsa engine, VideoSource probe, String video, VideoSource.Options options, Settings s,
                                      java.util.function.IntFunction<Runnable> progressOf) {
        int total = Math.max(1, probe.estimatedFrames());
        double fps = (probe.frameRate() > 0 ? probe.frameRate() : 24) / options.every();
        int srcW = probe.width(), srcH = probe.height();
        Runnable onFrame = progressOf.apply(total);
        int[] out = engine.outputSize(srcW, srcH);
        EvidenceFrame ef = new EvidenceFrame(out[0], out[1], s.panelWidth(), s.lo(), s.hi(), s.threshold(), engine.classNames(),
                s.captionClasses(), total);
        List<SaTimeline.Point> points = new ArrayList<>();
        BufferedImage input = new BufferedImage(srcW, srcH, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[srcW];
        float[][] map = {new float[0]};
        int[][] predicted = {new int[0]};
        int[] n = {0};
        BufferedImage[] still = {null};
        VideoWriter w = VideoWriter.open(s.out(), ef.width(), ef.height(), fps, s.bitsPerSecond());
        try {
            SegsaVideo.scoreVideo(engine, probe, false, (f, r) -> {
                ByteBuffer px = f.pixels();
                for (int y = 0; y < f.height(); y++) {
                    int o = y * f.stride();
                    for (int x = 0; x < f.width(); x++) {
                        row[x] = ((px.get(o + 3 * x) & 0xff) << 16) | ((px.get(o + 3 * x + 1) & 0xff) << 8) | (px.get(o + 3 * x + 2) & 0xff);
                    }
                    input.setRGB(0, y, f.width(), 1, row, 0, f.width());
                }
                frame(ef, w, s, r, input, null, engine, f.seconds(), f.index(), n[0]++, map, predicted, points, still);
                onFrame.run();
            });
            if (n[0] == 0) {
                throw new SegsaException(video + ": no frame to render (the stream has none from " + options.fromSeconds() + " s"
                        + (Double.isInfinite(options.toSeconds()) ? "" : " to " + options.toSeconds() + " s") + "); nothing written");
            }
            checkStill(s, n[0], still[0]);
            w.close();
        } catch (RuntimeException e) {
            w.abort();
            throw e;
        }
        writeStill(s, still[0]);
        finish(s, points, probe.file().getFileName().toString());
        return new Summary(n[0], fps, ef.width(), ef.height(), points);
    }

    public static Summary fromFolder(Segsa engine, Path images, Path labels, Settings s,
                                     java.util.function.IntFunction<Runnable> progressOf) {
        List<Path> files = FrameReader.listFrames(images);
        Runnable onFrame = progressOf.apply(files.size());
        BufferedImage first = FrameReader.readImage(files.get(0));
        int[] out = engine.outputSize(first.getWidth(), first.getHeight());
        EvidenceFrame ef = new EvidenceFrame(out[0], out[1], s.panelWidth(), s.lo(), s.hi(), s.threshold(), engine.classNames(),
                s.captionClasses(), files.size());
        List<SaTimeline.Point> points = new ArrayList<>();
        float[][] map = {new float[0]};
        int[][] predicted = {new int[0]};
        int[] n = {0};
        BufferedImage[] still = {null};
        VideoWriter w = VideoWriter.open(s.out(), ef.width(), ef.height(), s.fps(), s.bitsPerSecond());
        try {
            engine.scoreFolder(images, labels, 2, false, (FrameFiles.Decoded f, FrameResult r) -> {
                if (r.width() != out[0] || r.height() != out[1]) {
                    throw new SegsaException(f.file() + ": frame is " + f.image().getWidth() + "x" + f.image().getHeight()
                            + "; every frame of a rendered sequence must have the first frame's size");
                }
                int[] lab = f.labels() == null ? null
                        : engine.labelsAtOutputSize(f.labels(), f.image().getWidth(), f.image().getHeight());
                int i = n[0]++;
                frame(ef, w, s, r, f.image(), lab, engine, i / s.fps(), i, i, map, predicted, points, still);
                onFrame.run();
            });
            checkStill(s, n[0], still[0]);
            w.close();
        } catch (RuntimeException e) {
            w.abort();
            throw e;
        }
        writeStill(s, still[0]);
        finish(s, points, images.getFileName().toString());
        return new Summary(n[0], s.fps(), ef.width(), ef.height(), points);
    }

    private static void frame(EvidenceFrame ef, VideoWriter w, Settings s, FrameResult r, BufferedImage input, int[] labels,
                              Segsa engine, double seconds, int index, int rendered, float[][] map, int[][] predicted,
                              List<SaTimeline.Point> points, BufferedImage[] still) {
        int n = r.width() * r.height();
        if (map[0].length != n) {
            map[0] = new float[n];
            predicted[0] = new int[n];
        }
        r.mdsaMap().get(0, map[0]);
        r.predictedMap().get(0, predicted[0]);
        BufferedImage img = ef.draw(input, r, map[0], predicted[0], labels, engine.saModel().settings().ignoreLabel(), seconds, index);
        w.write(img);
        points.add(new SaTimeline.Point(seconds, r.imageMdsa()));
        // the still joins the run's outputs: held until the video is complete, then written
        if (rendered == s.stillFrame() && s.still() != null) {
            BufferedImage copy = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
            copy.getGraphics().drawImage(img, 0, 0, null);  // the frame's canvas is drawn over by the next one
            still[0] = copy;
        }
    }

    /** A --still past the last rendered frame fails the run before the video is put in place. */
    private static void checkStill(Settings s, int rendered, BufferedImage still) {
        if (s.still() != null && still == null) {
            throw new SegsaException("--still " + s.stillFrame() + ": the run rendered " + rendered + " frame" + (rendered == 1 ? "" : "s")
                    + " (0.." + (rendered - 1) + "); nothing written");
        }
    }

    private static void writeStill(Settings s, BufferedImage still) {
        if (s.still() != null && still != null) HeatmapImage.write(still, s.still());
    }

    private static void finish(Settings s, List<SaTimeline.Point> points, String name) {
        if (s.timeline() != null) SaTimeline.write(s.timeline(), "SA timeline of " + name, points, s.skipFraction());
    }
}
