package dev.segsa.videoscore;

import dev.segsa.Segsa;
import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import dev.segsa.io.StopRequest;
import dev.segsa.score.FrameResult;
import dev.segsa.video.VideoSource;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Scores the frames of a video with an open {@link Segsa} engine: FFmpeg decodes (on a background
 * thread when {@link VideoSource.Options#ahead()} is above 0) into packed RGB, and each frame goes
 * to {@link Segsa#score(MemorySegment, int, int, long, PixelFormat, String)} in place, on the
 * calling thread. This lives in the {@code segsa-video} artifact, beside {@link VideoSource} and
 * {@link dev.segsa.video.VideoWriter}, so that an application that scores its own buffers depends
 * on {@code segsa-core} alone and carries no FFmpeg.
 *
 * <pre>{@code
 * try (Segsa engine = Segsa.builder(model, saFile).open()) {
 *     SegsaVideo.scoreVideo(engine, Path.of("drive.mp4"), VideoSource.Options.ALL, false,
 *             (frame, result) -> System.out.println(frame.name() + " " + result.imageMdsa()));
 * }
 * }</pre>
 *
 * <p>Thread safety: as the engine's {@code score} methods; one call decodes one video.
 */
public final class SegsaVideo {
    private SegsaVideo() {}

    /** Receives each scored video frame, in stream order, on the calling thread. */
    @FunctionalInterface
    public interface VideoSink {
        void accept(VideoSource.VideoFrame frame, FrameResult result);
    }

    /**
     * Scores the frames of a video file that {@code options} keep.
     *
     * @param skipBadFrames a frame the engine cannot score is listed and skipped; a stream that
     *                      cannot be decoded further ends the video either way (listed when skipping)
     * @return the frames skipped (empty unless {@code skipBadFrames}); latency in {@link Segsa#latency()}
     * @throws SegsaException without {@code skipBadFrames}: of kind {@link SegsaException.Kind#OTHER} when the
     *                        video cannot be opened or its decoding fails ({@link VideoSource}'s errors),
     *                        {@link SegsaException.Kind#FRAME} for a damaged frame or a stream damaged at its
     *                        end, and the kinds of {@link Segsa#score(MemorySegment, int, int, long, PixelFormat, String)}
     *                        (a {@link SegsaException} from the sink as it is); {@link SegsaException.Kind#STOPPED}
     *                        when a stop was requested, with or without it
     * @throws NullPointerException when an argument is null
     */
    public static List<Segsa.SkippedFrame> scoreVideo(Segsa engine, Path video, VideoSource.Options options, boolean skipBadFrames,
                                                      VideoSink sink) {
        return scoreVideo(engine, video.toString(), options, skipBadFrames, sink);
    }

    /**
     * As {@link #scoreVideo(Segsa, Path, VideoSource.Options, boolean, VideoSink)} on what FFmpeg
     * opens: a file, a URL ({@code rtsp://}, {@code http://}, ...), a V4L2 camera
     * ({@code /dev/video0}) or {@code -} for standard input ({@link VideoSource#openSource}); throws
     * as it does. With {@code skipBadFrames}, a video that cannot be opened at all is listed and the
     * call returns.
     */
    public static List<Segsa.SkippedFrame> scoreVideo(Segsa engine, String video, VideoSource.Options options, boolean skipBadFrames,
                                                      VideoSink sink) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(sink, "sink");
        List<Segsa.SkippedFrame> skipped = new ArrayList<>();
        VideoSource opened;
        try {
            opened = VideoSource.openSource(video, options);
        } catch (SegsaException e) {
            // a video that cannot be opened at all (zero bytes, not a video, audio only): listed, the run goes on
            if (!skipBadFrames || e instanceof StopRequest.Stopped) throw e;
            String why = e.getMessage().startsWith(video + ": ") ? e.getMessage().substring(video.length() + 2) : e.getMessage();
            skipped.add(new Segsa.SkippedFrame(video, why));
            return List.copyOf(skipped);
        }
        try (VideoSource source = opened) {
            skipped.addAll(scoreVideo(engine, source, skipBadFrames, sink));
        }
        return List.copyOf(skipped);
    }

    /**
     * As {@link #scoreVideo(Segsa, String, VideoSource.Options, boolean, VideoSink)} on a source
     * the caller opened (e.g. to read its size and rate first: a stream on standard input opens
     * once); the caller closes it. Throws as it does, less the errors of opening.
     */
    public static List<Segsa.SkippedFrame> scoreVideo(Segsa engine, VideoSource source, boolean skipBadFrames, VideoSink sink) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(sink, "sink");
        List<Segsa.SkippedFrame> skipped = new ArrayList<>();
        Iterator<VideoSource.VideoFrame> frames = source.iterator();
        DamagedRange range = new DamagedRange(source.file().getFileName().toString());
        while (true) {
            VideoSource.VideoFrame f;
            try {
                if (!frames.hasNext()) break;
                f = frames.next();
            } catch (SegsaException e) {
                if (!skipBadFrames || e instanceof StopRequest.Stopped) throw e;
                range.flush(skipped);
                skipped.add(new Segsa.SkippedFrame(source.file().getFileName() + " (rest of the stream)", e.getMessage()));
                break;
            }
            String damage = source.damageOf(f.index());
            if (damage != null) {
                if (!skipBadFrames) {
                    throw new SegsaException(SegsaException.Kind.FRAME, source.file() + ": frame " + f.index() + " is damaged (FFmpeg: "
                            + damage + "); the stream has decoding errors (SegsaVideo.scoreVideo with skipBadFrames true scores the "
                            + "rest and lists the damaged frames; segsa score and watch: --skip-bad-frames)");
                }
                range.add(f.index(), damage);
                continue;
            }
            range.flush(skipped);
            try {
                sink.accept(f, engine.score(MemorySegment.ofBuffer(f.pixels()), f.width(), f.height(), f.stride(), PixelFormat.RGB,
                        f.name()));
            } catch (SegsaException e) {
                if (!skipBadFrames || e instanceof StopRequest.Stopped) throw e;
                skipped.add(new Segsa.SkippedFrame(f.name(), e.getMessage()));
            }
        }
        range.flush(skipped);
        String end = source.endDamage();
        if (end != null) {
            if (!skipBadFrames) {
                throw new SegsaException(SegsaException.Kind.FRAME, source.file() + ": the stream is damaged at its end (FFmpeg: " + end
                        + ") (SegsaVideo.scoreVideo with skipBadFrames true scores what decodes and lists the damage; segsa score "
                        + "and watch: --skip-bad-frames)");
            }
            skipped.add(new Segsa.SkippedFrame(source.file().getFileName() + " (end of the stream)", end));
        }
        return List.copyOf(skipped);
    }

    /** Consecutive damaged frames of a video, listed as one skipped range. */
    private static final class DamagedRange {
        private final String video;
        private int first = -1, last = -1;
        private String reason;

        DamagedRange(String video) {
            this.video = video;
        }

        void add(int index, String why) {
            if (first < 0) {
                first = index;
                reason = why;
            }
            last = index;
        }

        void flush(List<Segsa.SkippedFrame> out) {
            if (first < 0) return;
            String frames = first == last ? "#" + first : "#" + first + "..#" + last;
            out.add(new Segsa.SkippedFrame(video + frames, "damaged (FFmpeg: " + reason + ")"));
            first = last = -1;
        }
    }
}
