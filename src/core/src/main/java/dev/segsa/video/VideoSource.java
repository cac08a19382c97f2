package dev.segsa.video;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameNormalizer;
import dev.segsa.io.DecodeAhead;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The frames of a video file (any container and codec FFmpeg's LGPL build decodes), as packed
 * 8-bit RGB in direct buffers, with their index in the stream and presentation timestamp.
 * {@link Options} select every k-th frame and a time window. With {@code ahead > 0} one
 * background thread decodes up to {@code ahead} frames into a ring of reused buffers while the
 * caller scores (memory stays flat); with 0 the caller's thread decodes and a frame's buffer is
 * FFmpeg's own (no copy). Either way a frame's pixels are valid until the next call of the
 * iterator's {@code next()}. A corrupt, truncated or unsupported stream raises a
 * {@link SegsaException} naming the file (and the frame where decoding stopped); one iteration.
 */
public final class VideoSource implements Iterable<VideoSource.VideoFrame>, AutoCloseable {
    /**
     * @param every     keep every k-th decoded frame (1: all)
     * @param fromSeconds first presentation time kept (0: the start)
     * @param toSeconds   last presentation time kept (infinity: the end)
     * @param ahead       frames decoded ahead on a background thread (0: on the caller's thread)
     */
    public record Options(int every, double fromSeconds, double toSeconds, int ahead) {
        public static final Options ALL = new Options(1, 0, Double.POSITIVE_INFINITY, 2);

        public Options {
            if (every < 1) throw new IllegalArgumentException("--every must be >= 1, got " + every);
            if (!(fromSeconds >= 0) || !(toSeconds >= fromSeconds)) {
                throw new IllegalArgumentException("--from/--to must satisfy 0 <= from <= to, got " + fromSeconds + " and " + toSeconds);
            }
            if (ahead < 0) throw new IllegalArgumentException("frames decoded ahead must be >= 0, got " + ahead);
        }
    }

    /**
     * One decoded frame: packed RGB, {@code height} rows of {@code width} pixels, rows
     * {@code stride} bytes apart; {@code index} counts every decoded frame of the stream from 0,
     * {@code ptsMicros} is its presentation time. {@code pixels} is valid until the next frame.
     */
    public record VideoFrame(Path video, int index, long ptsMicros, int width, int height, int stride, ByteBuffer pixels) {
        /** The frame's name in messages and scores: {@code <file name>#<index>}. */
        public String name() {
            return video.getFileName() + "#" + index;
        }

        public double seconds() {
            return ptsMicros / 1e6;
        }
    }

    private static volatile boolean logging;

    /** Where FFmpeg's error messages go while this thread decodes (null: dropped). */
    private static final ThreadLocal<java.util.List<String>> ERRORS = new ThreadLocal<>();

    /**
     * FFmpeg's log, captured instead of printed: messages at level error or worse logged while a
     * source decodes on this thread (its decoder runs single-threaded, on the calling thread) are
     * that source's decoding errors; everything else is dropped.
     */
    private static final class ErrorCapture extends org.bytedeco.ffmpeg.avutil.LogCallback {
        @Override
        public void call(int level, org.bytedeco.javacpp.BytePointer message) {
            if (level > avutil.AV_LOG_ERROR) return;
            java.util.List<String> sink = ERRORS.get();
            if (sink == null || sink.size() >= 64) return;
            // "[h264 @ 0x55d0c0a0] error while decoding MB 3 5" -> "h264: error while decoding MB 3 5"
            String m = message.getString().strip().replaceFirst("^\\[(\\S+) @ 0x[0-9a-fA-F]+\\] ", "$1: ");
            if (!sink.contains(m)) sink.add(m);
        }
    }

    private static final ErrorCapture ERROR_CAPTURE = new ErrorCapture();

    /** Decoding errors by frame index (FFmpeg's first message for the frame); key -1: at the end of the stream. */
    private final java.util.Map<Integer, String> damage = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.List<String> errors = new java.util.ArrayList<>();

    private final Path file;
    private final Options options;
    private final FFmpegFrameGrabber grabber;
    private final int width;
    private final int height;
    private final double frameRate;
    private final int lengthInFrames;
    private DecodeAhead<VideoFrame> decoder;
    private boolean iterated;
    private boolean closed;

    private VideoSource(Path file, Options options, FFmpegFrameGrabber grabber) {
        this.file = file;
        this.options = options;
        this.grabber = grabber;
        this.width = grabber.getImageWidth();
        this.height = grabber.getImageHeight();
        this.frameRate = grabber.getFrameRate();
        this.lengthInFrames = grabber.getLengthInFrames();
    }

    /** Opens a video; its header is read and checked (a stream of frames within the size limits). */
    public static VideoSource open(Path file, Options options) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": video file not found");
        quietFfmpeg();
        return start(new FFmpegFrameGrabber(file.toFile()), file, file.toString(), options);
    }

    /**
     * Opens what FFmpeg opens: a file path, a URL ({@code rtsp://}, {@code http://}, {@code udp://},
     * ... anything with {@code ://}), a V4L2 camera ({@code /dev/video0}), or {@code -} for a stream
     * on standard input. Frames of a stream are named after a file-system-safe form of the source.
     */
    public static VideoSource openSource(String source, Options options) {
        if (source == null || source.isBlank()) throw new SegsaException("no video source given");
        boolean stdin = source.equals("-") || source.equals("/dev/stdin");
        boolean url = source.contains("://");
        boolean camera = source.startsWith("/dev/video");
        if (!stdin && !url && !camera) return open(Path.of(source), options);
        quietFfmpeg();
        FFmpegFrameGrabber g = stdin ? new FFmpegFrameGrabber(System.in, 0) : new FFmpegFrameGrabber(source);
        if (camera) g.setFormat("video4linux2");
        String name = stdin ? "stdin" : source.replaceAll("[^A-Za-z0-9._-]+", "_");
        return start(g, Path.of(name), stdin ? "standard input" : source, options);
    }

    private static VideoSource start(FFmpegFrameGrabber g, Path file, String what, Options options) {
        g.setPixelFormat(avutil.AV_PIX_FMT_RGB24);
        // one decoder thread, the caller's: FFmpeg's error messages are then logged on the thread that asked for the frame
        g.setVideoOption("threads", "1");
        java.util.List<String> openErrors = new java.util.ArrayList<>();
        ERRORS.set(openErrors);
        try {
            g.start();
        } catch (FrameGrabber.Exception | RuntimeException e) {
            closeQuietly(g);
            String why = !openErrors.isEmpty() ? "FFmpeg: " + String.join("; ", openErrors.subList(0, Math.min(2, openErrors.size())))
                    : firstLine(e.getMessage()).replace(" (Has setFormat() been called?)", "")
                    .replace(" (For more details, make sure FFmpegLogCallback.set() has been called.)", "");
            throw new SegsaException(what + ": cannot open video (corrupt, truncated, unsupported or unreachable): " + why, e);
        } finally {
            ERRORS.remove();
        }
        if (!g.hasVideo() || g.getImageWidth() <= 0 || g.getImageHeight() <= 0) {
            closeQuietly(g);
            throw new SegsaException(what + ": no video stream in it");
        }
        try {
            FrameNormalizer.checkSize(g.getImageWidth(), g.getImageHeight(), what);
            long pixels = (long) g.getImageWidth() * g.getImageHeight();
            if (pixels > dev.segsa.features.FrameReader.maxPixels()) {
                throw new SegsaException(what + ": video frames are " + g.getImageWidth() + "x" + g.getImageHeight() + " = " + pixels
                        + " pixels, above the limit of " + dev.segsa.features.FrameReader.maxPixels() + " (raise it with --max-pixels)");
            }
        } catch (SegsaException e) {
            closeQuietly(g);
            throw e;
        }
        return new VideoSource(file, options, g);
    }

    static void quietFfmpeg() {
        if (logging) return;
        synchronized (VideoSource.class) {
            if (logging) return;
            // FFmpeg prints nothing itself: what went wrong comes back as the exception's message, naming the file, or
            // as the decoding errors captured per source (ErrorCapture)
            avutil.av_log_set_level(avutil.AV_LOG_ERROR);
            avutil.setLogCallback(ERROR_CAPTURE);
            logging = true;
        }
    }

    public Path file() {
        return file;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Frames per second the container states (0 when unknown). */
    public double frameRate() {
        return frameRate;
    }

    /** Frames the container states (an estimate; 0 when unknown). */
    public int lengthInFrames() {
        return lengthInFrames;
    }

    /** Frames the options keep, estimated from the container's length. */
    public int estimatedFrames() {
        if (lengthInFrames <= 0) return 0;
        double rate = frameRate > 0 ? frameRate : 24;
        int first = (int) Math.ceil(options.fromSeconds() * rate);
        int last = Double.isInfinite(options.toSeconds()) ? lengthInFrames - 1
                : Math.min(lengthInFrames - 1, (int) Math.floor(options.toSeconds() * rate));
        return last < first ? 0 : (last - first) / options.every() + 1;
    }

    /** The next decoded frame kept by the options, or null at the end; on the caller's thread. */
    private Frame grabKept(int[] index) {
        while (true) {
            Frame f;
            errors.clear();
            ERRORS.set(errors);
            try {
                f = grabber.grabImage();
            } catch (FrameGrabber.Exception | RuntimeException e) {
                throw new SegsaException(file + ": decoding failed after frame " + (index[0] - 1) + " (corrupt or truncated stream): "
                        + firstLine(e.getMessage()), e);
            } finally {
                ERRORS.remove();
            }
            if (f == null) {
                if (!errors.isEmpty()) damage.put(-1, errors.get(0));
                return null;
            }
            int i = index[0]++;
            // errors logged before the first frame came out concern packets that never made a frame (a stream joined
            // mid-GOP: "non-existing PPS", "no frame!"): not the first frame's damage
            if (!errors.isEmpty() && i > 0) damage.put(i, errors.get(0));
            double t = f.timestamp / 1e6;
            if (t > options.toSeconds()) return null;
            if (t < options.fromSeconds()) continue;
            // the grabber converts to packed RGB24; rows may be padded (javacv's imageChannels is stride / width, not 3)
            if (f.image == null || f.imageWidth != width || f.imageHeight != height || f.imageStride < 3 * width) {
                throw new SegsaException(file + ": frame " + i + " is " + f.imageWidth + "x" + f.imageHeight + " (row stride "
                        + f.imageStride + "), the stream declared " + width + "x" + height + " (resolution changes are not supported)");
            }
            if (keptCount++ % options.every() != 0) continue;
            lastIndex = i;
            return f;
        }
    }

    private int keptCount;
    private int lastIndex;

    /**
     * FFmpeg's first decoding error for frame {@code index} (a damaged frame, e.g. corrupt bytes
     * concealed by the decoder), or null when it decoded cleanly. Known once the frame is decoded.
     */
    public String damageOf(int index) {
        return damage.get(index);
    }

    /**
     * What went wrong at the end of the stream (FFmpeg's error while reading past the last frame,
     * e.g. a file cut short), or null. Known once iteration has ended. (A stream shorter than its
     * container's duration is not reported: that duration counts audio and variable frame rates.)
     */
    public String endDamage() {
        return damage.get(-1);
    }

    @Override
    public synchronized Iterator<VideoFrame> iterator() {
        if (iterated) throw new IllegalStateException("a VideoSource can be iterated once");
        iterated = true;
        int[] index = {0};
        if (options.ahead() == 0) {
            return new Iterator<>() {
                private VideoFrame next;
                private boolean done;

                @Override
                public boolean hasNext() {
                    if (next == null && !done) {
                        Frame f = grabKept(index);
                        if (f == null) done = true;
                        else next = new VideoFrame(file, lastIndex, f.timestamp, width, height, f.imageStride, (ByteBuffer) f.image[0]);
                    }
                    return next != null;
                }

                @Override
                public VideoFrame next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    VideoFrame v = next;
                    next = null;
                    return v;
                }
            };
        }
        // a ring of ahead + 2 buffers: up to `ahead` queued, one being filled, one held by the caller
        int slots = options.ahead() + 2;
        int stride = width * 3;
        ByteBuffer[] ring = new ByteBuffer[slots];
        for (int i = 0; i < slots; i++) ring[i] = ByteBuffer.allocateDirect(stride * height);
        BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(slots);
        for (ByteBuffer b : ring) free.add(b);
        decoder = new DecodeAhead<>("segsa-video-decode", file.toString(), options.ahead(), () -> {
            Frame f = grabKept(index);
            if (f == null) return null;
            ByteBuffer dst = free.take();
            ByteBuffer src = ((ByteBuffer) f.image[0]).duplicate();
            for (int y = 0; y < height; y++) dst.put(y * stride, src, y * f.imageStride, stride);
            return new VideoFrame(file, lastIndex, f.timestamp, width, height, stride, dst);
        });
        DecodeAhead<VideoFrame> frames = decoder;
        return new Iterator<>() {
            private ByteBuffer held;

            @Override
            public boolean hasNext() {
                return frames.hasNext();
            }

            @Override
            public VideoFrame next() {
                VideoFrame v = frames.next();
                // the caller is done with the previous frame: its buffer goes back to the decoder
                if (held != null) free.add(held);
                held = v.pixels();
                return v;
            }
        };
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (decoder != null) decoder.close();
        // a decoding thread still inside FFmpeg (a stalled pipe or network read) would read freed memory: the
        // grabber is then left to the process's end (a leak, not a crash)
        if (decoder == null || decoder.ended()) closeQuietly(grabber);
    }

    private static void closeQuietly(FFmpegFrameGrabber g) {
        try {
            g.close();
        } catch (Exception ignored) {
            // releasing FFmpeg's context cannot be acted on
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "(no message)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
