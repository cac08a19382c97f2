package dev.segsa.video;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameNormalizer;
import dev.segsa.io.DecodeAhead;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOInterruptCB;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

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
            if (every < 1) throw new IllegalArgumentException("every must be >= 1 (segsa: --every), got " + every);
            if (!(fromSeconds >= 0) || !(toSeconds >= fromSeconds)) {
                throw new IllegalArgumentException("fromSeconds and toSeconds must satisfy 0 <= from <= to (segsa: --from, --to), got "
                        + fromSeconds + " and " + toSeconds);
            }
            if (ahead < 0) throw new IllegalArgumentException("frames decoded ahead must be >= 0, got " + ahead);
        }
    }

    /**
     * How long a network source may block, and when to give up on it (see
     * {@link #openSource(String, Options, NetworkOptions)}).
     *
     * @param openTimeoutSeconds longest time opening may take: connecting, the protocol's handshake,
     *                           reading the header and probing the streams (finite, > 0)
     * @param readTimeoutSeconds longest time one frame may take to arrive once open (finite, > 0)
     * @param stop               true ends the open or the iteration at once (polled while FFmpeg
     *                           waits on a URL, and between the frames of any source); null: never
     */
    public record NetworkOptions(double openTimeoutSeconds, double readTimeoutSeconds, BooleanSupplier stop) {
        /** 10 s to open, 5 s per frame, no stop. */
        public static final NetworkOptions DEFAULTS = new NetworkOptions(10, 5, null);

        public NetworkOptions {
            if (!(openTimeoutSeconds > 0) || !Double.isFinite(openTimeoutSeconds)) {
                throw new IllegalArgumentException("the open timeout must be a finite number of seconds > 0, got " + openTimeoutSeconds);
            }
            if (!(readTimeoutSeconds > 0) || !Double.isFinite(readTimeoutSeconds)) {
                throw new IllegalArgumentException("the read timeout must be a finite number of seconds > 0, got " + readTimeoutSeconds);
            }
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
    /** The source in messages: the file, the URL, the camera or "standard input". */
    private final String what;
    private final Options options;
    private final FFmpegFrameGrabber grabber;
    /** Deadlines and stop of a network source (FFmpeg's interrupt callback); null for files, cameras and stdin. */
    private final Watchdog dog;
    /** Polled between frames (null: never). */
    private final BooleanSupplier stop;
    private final int width;
    private final int height;
    private final double frameRate;
    private final int lengthInFrames;
    private DecodeAhead<VideoFrame> decoder;
    private boolean iterated;
    private boolean closed;

    private VideoSource(Path file, String what, Options options, FFmpegFrameGrabber grabber, Watchdog dog, BooleanSupplier stop) {
        this.file = file;
        this.what = what;
        this.options = options;
        this.grabber = grabber;
        this.dog = dog;
        this.stop = stop;
        this.width = grabber.getImageWidth();
        this.height = grabber.getImageHeight();
        this.frameRate = grabber.getFrameRate();
        this.lengthInFrames = grabber.getLengthInFrames();
    }

    /** Opens a video; its header is read and checked (a stream of frames within the size limits). */
    public static VideoSource open(Path file, Options options) {
        return open(file, options, null);
    }

    private static VideoSource open(Path file, Options options, BooleanSupplier stop) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": video file not found");
        quietFfmpeg();
        return start(new FFmpegFrameGrabber(file.toFile()), file, file.toString(), options, null, stop);
    }

    /**
     * {@link #openSource(String, Options, NetworkOptions)} with {@link NetworkOptions#DEFAULTS}: a
     * network source gets 10 s to open and 5 s per frame.
     */
    public static VideoSource openSource(String source, Options options) {
        return openSource(source, options, NetworkOptions.DEFAULTS);
    }

    /**
     * Opens what FFmpeg opens: a file path, a URL ({@code rtsp://}, {@code http://}, {@code udp://},
     * ... anything with {@code ://}), a V4L2 camera ({@code /dev/video0}), or {@code -} for a stream
     * on standard input. Frames of a stream are named after a file-system-safe form of the source.
     *
     * <p>A URL never blocks for longer than {@code net} allows, even when the peer accepts the
     * connection and then sends nothing: FFmpeg polls an interrupt callback while it connects and
     * waits for data, and the callback aborts the blocking call when
     * <ul>
     *   <li>opening (connecting, the protocol's handshake, reading the header, probing the
     *       streams) has taken {@code openTimeoutSeconds}: this method throws a
     *       {@link SegsaException} "{@code <source>: did not open within N s (open timeout)}";</li>
     *   <li>one frame has taken {@code readTimeoutSeconds} to arrive: the iterator's
     *       {@code hasNext()}/{@code next()} throws a {@link SegsaException}
     *       "{@code <source>: no data for N s (read timeout), after frame K}";</li>
     *   <li>{@code stop} returns true: while opening, this method throws a {@link SegsaException}
     *       of kind {@link SegsaException.Kind#STOPPED} "{@code <source>: stopped while opening}";
     *       while iterating, the iteration simply ends ({@code hasNext()} false, no exception).</li>
     * </ul>
     * FFmpeg's own socket timeouts ({@code rw_timeout}, and the protocol's {@code timeout} except
     * for RTMP, where it would mean listening) are set to the larger timeout plus 1 s: a backstop
     * for waits the callback does not reach, never the first to fire. Files, cameras and standard
     * input have no timeouts (a file does not stall; a camera or pipe blocks in reads FFmpeg cannot
     * interrupt); {@code stop} is polled between their frames.
     */
    public static VideoSource openSource(String source, Options options, NetworkOptions net) {
        if (net == null) throw new IllegalArgumentException("network options must not be null (NetworkOptions.DEFAULTS)");
        if (source == null || source.isBlank()) throw new SegsaException("no video source given");
        if (net.stop() != null && net.stop().getAsBoolean()) throw new SegsaException(SegsaException.Kind.STOPPED, source + ": stopped while opening");
        boolean stdin = source.equals("-") || source.equals("/dev/stdin");
        boolean url = source.contains("://");
        boolean camera = source.startsWith("/dev/video");
        if (!stdin && !url && !camera) return open(Path.of(source), options, net.stop());
        quietFfmpeg();
        FFmpegFrameGrabber g = stdin ? new FFmpegFrameGrabber(System.in, 0) : new FFmpegFrameGrabber(source);
        if (camera) g.setFormat("video4linux2");
        Watchdog dog = null;
        if (url) {
            long backstop = micros(Math.max(net.openTimeoutSeconds(), net.readTimeoutSeconds()) + 1);
            // microseconds; rw_timeout: any protocol's reads and writes (URLContext); timeout: tcp's connect and socket I/O
            // (http, https and hls pass it down to tcp), rtsp's socket I/O (FFmpeg >= 5; "stimeout" before), udp's reads.
            // RTMP's "timeout" is a listen timeout that turns the client into a server: not for it
            g.setOption("rw_timeout", Long.toString(backstop));
            if (!source.regionMatches(true, 0, "rtmp", 0, 4)) g.setOption("timeout", Long.toString(backstop));
            dog = new Watchdog(net);
        }
        String name = stdin ? "stdin" : source.replaceAll("[^A-Za-z0-9._-]+", "_");
        return start(g, Path.of(name), stdin ? PIPED : source, options, dog, net.stop());
    }

    /** {@link #what} of standard input. */
    private static final String PIPED = "standard input";

    /** FFmpeg's name of the demuxer is the list of the formats it reads: "mov,mp4,m4a,3gp,3g2,mj2". */
    private static boolean isMp4(String format) {
        return format != null && java.util.Arrays.asList(format.split(",")).stream().anyMatch(f -> f.equals("mp4") || f.equals("mov"));
    }

    private static VideoSource start(FFmpegFrameGrabber g, Path file, String what, Options options, Watchdog dog, BooleanSupplier stop) {
        g.setPixelFormat(avutil.AV_PIX_FMT_RGB24);
        // one decoder thread, the caller's: FFmpeg's error messages are then logged on the thread that asked for the frame
        g.setVideoOption("threads", "1");
        java.util.List<String> openErrors = new java.util.ArrayList<>();
        ERRORS.set(openErrors);
        Exception failed = null;
        if (dog != null) dog.beforeStart(g);
        try {
            g.start();
        } catch (FrameGrabber.Exception | RuntimeException e) {
            failed = e;
        } finally {
            ERRORS.remove();
            if (dog != null) dog.afterStart(g);
        }
        Watchdog.Reason aborted = dog == null ? null : dog.reason();
        if (aborted != null) {
            // the callback ended the open (whatever start() made of that: an exception, or a half-probed stream)
            discard(g, dog);
            if (aborted == Watchdog.Reason.STOPPED) throw new SegsaException(SegsaException.Kind.STOPPED, what + ": stopped while opening", failed);
            throw new SegsaException(what + ": did not open within " + seconds(dog.net.openTimeoutSeconds()) + " s (open timeout)", failed);
        }
        if (failed != null) {
            discard(g, dog);
            String why = !openErrors.isEmpty() ? "FFmpeg: " + String.join("; ", openErrors.subList(0, Math.min(2, openErrors.size())))
                    : firstLine(failed.getMessage()).replace(" (Has setFormat() been called?)", "")
                    .replace(" (For more details, make sure FFmpegLogCallback.set() has been called.)", "");
            throw new SegsaException(what + ": cannot open video (corrupt, truncated, unsupported or unreachable): " + why, failed);
        }
        if (!g.hasVideo() || g.getImageWidth() <= 0 || g.getImageHeight() <= 0) {
            discard(g, dog);
            throw new SegsaException(what + ": no video stream in it");
        }
        try {
            FrameNormalizer.checkSize(g.getImageWidth(), g.getImageHeight(), what);
            long pixels = (long) g.getImageWidth() * g.getImageHeight();
            if (pixels > dev.segsa.features.FrameReader.maxPixels()) {
                throw new SegsaException(what + ": video frames are " + g.getImageWidth() + "x" + g.getImageHeight() + " = " + pixels
                        + " pixels, above the limit of " + dev.segsa.features.FrameReader.maxPixels()
                        + " (raise it with FrameReader.setMaxPixels; segsa: --max-pixels)");
            }
        } catch (SegsaException e) {
            discard(g, dog);
            throw e;
        }
        return new VideoSource(file, what, options, g, dog, stop);
    }

    /** Releases a grabber that will not be used (its network I/O bounded by the watchdog) and forgets the watchdog. */
    private static void discard(FFmpegFrameGrabber g, Watchdog dog) {
        if (dog != null) dog.beforeRelease();
        closeQuietly(g);
        if (dog != null) dog.unregister();
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
            if (stopRequested()) return null;
            Frame f;
            errors.clear();
            ERRORS.set(errors);
            long began = System.nanoTime();
            if (dog != null) dog.arm(dog.net.readTimeoutSeconds());
            try {
                f = grabber.grabImage();
            } catch (FrameGrabber.Exception | RuntimeException e) {
                if (dog != null && dog.reason() != null) {
                    if (dog.reason() == Watchdog.Reason.TIMEOUT) throw readTimeout(index, e);
                    return null;
                }
                throw new SegsaException(file + ": decoding failed after frame " + (index[0] - 1) + " (corrupt or truncated stream): "
                        + firstLine(e.getMessage()), e);
            } finally {
                ERRORS.remove();
                if (dog != null) dog.disarm();
            }
            if (dog != null) {
                // javacv reports a read that failed (the callback's abort, or FFmpeg's own timeout) as the end of the stream
                Watchdog.Reason r = dog.reason();
                if (r == Watchdog.Reason.TIMEOUT) throw readTimeout(index, null);
                if (r != null) return null;
                if (f == null && System.nanoTime() - began >= nanos(dog.net.readTimeoutSeconds())) throw readTimeout(index, null);
            }
            if (f == null) {
                if (!errors.isEmpty() && index[0] == 0 && PIPED.equals(what) && isMp4(grabber.getFormat())) {
                    throw new SegsaException(what + ": an MP4 or MOV whose index (moov) is at its end cannot be read from a pipe: "
                            + "the index comes after the frames it points to, which a pipe cannot go back to (FFmpeg: " + errors.get(0)
                            + "). Give the file's path instead, or pipe a streamable form, e.g. ffmpeg -i drive.mp4 -c copy "
                            + "-movflags frag_keyframe+empty_moov -f mp4 - (or -f mpegts -)");
                }
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

    /** The stop supplier said stop, or the watchdog ended the stream (stop, close). */
    private boolean stopRequested() {
        if (dog != null && dog.reason() != null) return true;
        return stop != null && stop.getAsBoolean();
    }

    private SegsaException readTimeout(int[] index, Throwable cause) {
        return new SegsaException(what + ": no data for " + seconds(dog.net.readTimeoutSeconds()) + " s (read timeout), after "
                + (index[0] == 0 ? "no frame" : "frame " + (index[0] - 1)), cause);
    }

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
        if (decoder != null) {
            // a decoding thread waiting for network data returns at once
            if (dog != null) dog.trip(Watchdog.Reason.CLOSED);
            decoder.close();
        }
        // a decoding thread still inside FFmpeg (a stalled pipe or network read) would read freed memory: the
        // grabber is then left to the process's end (a leak, not a crash)
        if (decoder == null || decoder.ended()) discard(grabber, dog);
    }

    private static void closeQuietly(FFmpegFrameGrabber g) {
        try {
            g.close();
        } catch (Exception ignored) {
            // releasing FFmpeg's context cannot be acted on
        }
    }

    /** Seconds as a message shows them: 5, 0.5. */
    static String seconds(double s) {
        return s == Math.rint(s) && Math.abs(s) < 1e15 ? Long.toString((long) s) : Double.toString(s);
    }

    /** Seconds in nanoseconds, at most about three years (deadlines on System.nanoTime stay comparable). */
    private static long nanos(double seconds) {
        return (long) Math.min(seconds * 1e9, 1e17);
    }

    /** Seconds in microseconds for FFmpeg's int options (at most INT_MAX, about 36 minutes). */
    private static long micros(double seconds) {
        return (long) Math.min(seconds * 1e6, Integer.MAX_VALUE);
    }

    /**
     * The deadline of a network source's current blocking call and its stop, polled by FFmpeg's
     * interrupt callback (AVIOInterruptCB) while it connects, waits for data or writes. javacv's
     * FFmpegFrameGrabber (1.5.13) has no interrupt callback of its own ({@code setTimeout} is not
     * used by it) and lets {@code avformat_open_input} allocate the format context, whose callback
     * FFmpeg copies into every protocol context at open: the callback must be in the context
     * before the open. So the grabber's options map is replaced by one that, when start() reads it
     * (after it has reset its context, before it opens the input), puts a context of our own, with
     * the callback, in the grabber's private field {@code oc}, which start() then opens. Should that
     * field be missing (another javacv), the source opens without the callback, bounded by FFmpeg's
     * own socket timeouts only. One callback serves every source; its opaque pointer, the format
     * context, finds the source's watchdog. Once tripped, the watchdog stays tripped (every later
     * blocking call aborts at once), except that a normal close gets one read timeout to release.
     */
    static final class Watchdog {
        enum Reason { TIMEOUT, STOPPED, CLOSED }

        private static final Field GRABBER_CONTEXT = grabberField("oc");
        private static final Field GRABBER_FILENAME = grabberField("filename");
        /** What a spoiled retry opens: no protocol of this name, so FFmpeg fails at once, touching nothing. */
        private static final String NO_INPUT = "segsa-interrupted:";

        final NetworkOptions net;
        private volatile long deadline;
        private volatile boolean armed;
        private volatile Reason reason;
        /** The grabber while start() runs on it. */
        private FFmpegFrameGrabber opening;
        private Object filename;
        /** The address of the format context that carries the callback (the key in {@link Interrupts#WATCHDOGS}); 0: none. */
        private long context;

        Watchdog(NetworkOptions net) {
            this.net = net;
        }

        private static Field grabberField(String name) {
            try {
                Field f = FFmpegFrameGrabber.class.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        Reason reason() {
            return reason;
        }

        /** The current blocking call (an open, a frame) may last {@code seconds} from now. */
        void arm(double seconds) {
            deadline = System.nanoTime() + nanos(seconds);
            armed = true;
        }

        void disarm() {
            armed = false;
        }

        /** Polled by FFmpeg: whether to abort what it waits for. Trips on stop or a passed deadline. */
        boolean abort() {
            if (reason != null) return true;
            BooleanSupplier stop = net.stop();
            boolean stopped;
            try {
                stopped = stop != null && stop.getAsBoolean();
            } catch (RuntimeException e) {
                stopped = false; // a failing stop supplier cannot stop the stream; the deadlines still do
            }
            if (stopped) trip(Reason.STOPPED);
            else if (armed && System.nanoTime() - deadline >= 0) trip(Reason.TIMEOUT);
            return reason != null;
        }

        synchronized void trip(Reason r) {
            if (reason != null) return;
            reason = r;
            // javacv retries a failed avformat_open_input once (without pixel_format), in a context of its own, without
            // the callback: that retry is made to fail at once
            if (opening != null && GRABBER_FILENAME != null) {
                try {
                    GRABBER_FILENAME.set(opening, NO_INPUT);
                } catch (ReflectiveOperationException | RuntimeException ignored) {
                    // the retry then runs, bounded by FFmpeg's own timeouts
                }
            }
        }

        /** Before start(): the open deadline, and the hook that installs the callback. */
        void beforeStart(FFmpegFrameGrabber g) {
            synchronized (this) {
                opening = g;
                filename = null;
                try {
                    if (GRABBER_FILENAME != null) filename = GRABBER_FILENAME.get(g);
                } catch (ReflectiveOperationException | RuntimeException ignored) {
                    // not restored after start(): only a spoiled retry changes it
                }
            }
            if (GRABBER_CONTEXT != null) g.setOptions(new OpenHook(g.getOptions(), () -> install(g)));
            arm(net.openTimeoutSeconds());
        }

        /** Inside start(), after the grabber reset its context field and before it opens the input. */
        private void install(FFmpegFrameGrabber g) {
            AVFormatContext ctx;
            try {
                ctx = avformat.avformat_alloc_context();
                if (ctx == null || ctx.isNull()) return;
                ctx.interrupt_callback().callback(Interrupts.CALLBACK).opaque(ctx);
            } catch (RuntimeException | LinkageError e) {
                return; // opened without the callback, bounded by FFmpeg's own timeouts
            }
            Interrupts.WATCHDOGS.put(ctx.address(), this);
            try {
                GRABBER_CONTEXT.set(g, ctx);
                context = ctx.address();
            } catch (ReflectiveOperationException | RuntimeException e) {
                Interrupts.WATCHDOGS.remove(ctx.address(), this);
                avformat.avformat_free_context(ctx);
            }
        }

        void afterStart(FFmpegFrameGrabber g) {
            disarm();
            synchronized (this) {
                opening = null;
                try {
                    if (GRABBER_FILENAME != null && filename != null && GRABBER_FILENAME.get(g) != filename) GRABBER_FILENAME.set(g, filename);
                } catch (ReflectiveOperationException | RuntimeException ignored) {
                    // the name only appears in javacv's messages
                }
            }
        }

        /** Before the grabber is released: a normal close gets one read timeout for its network I/O (RTSP's TEARDOWN). */
        synchronized void beforeRelease() {
            if (reason == Reason.CLOSED) reason = null;
            arm(net.readTimeoutSeconds());
        }

        /** After the grabber is released (its format context freed). */
        synchronized void unregister() {
            if (context != 0) Interrupts.WATCHDOGS.remove(context, this);
            context = 0;
        }
    }

    /**
     * The grabber's options, which start() reads (entrySet) once it has reset its format context
     * and before it opens the input: then, once, {@code onOpen} runs.
     */
    private static final class OpenHook extends HashMap<String, String> {
        private transient Runnable onOpen;

        OpenHook(Map<String, String> options, Runnable onOpen) {
            super(options);
            this.onOpen = onOpen;
        }

        @Override
        public Set<Map.Entry<String, String>> entrySet() {
            Runnable r = onOpen;
            onOpen = null;
            if (r != null) r.run();
            return super.entrySet();
        }
    }

    /** The one interrupt callback of all network sources (made on first use: it loads FFmpeg). */
    private static final class Interrupts {
        static final Map<Long, Watchdog> WATCHDOGS = new ConcurrentHashMap<>();
        static final Callback CALLBACK = new Callback().retainReference();

        private static final class Callback extends AVIOInterruptCB.Callback_Pointer {
            @Override
            public int call(Pointer opaque) {
                Watchdog w = opaque == null ? null : WATCHDOGS.get(opaque.address());
                return w != null && w.abort() ? 1 : 0;
            }
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "(no message)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
