package dev.segsa.video;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Network sources never hang: a local server accepts connections and then sends nothing (or a
 * few frames, then nothing), and opening or reading ends within the timeouts of
 * {@link VideoSource.NetworkOptions}, or promptly when the stop supplier says so. The bounds
 * asserted are generous (a loaded machine): what matters is that the calls return at all.
 */
class VideoSourceTimeoutTest {
    /** Sockets accepted by the server, kept open (a peer that is there but silent). */
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private ServerSocket server;
    private Thread acceptor;
    private ScheduledExecutorService timer;
    /** What the server writes on each connection before it falls silent (null: nothing). */
    private volatile byte[] greeting;
    /** Whether the server closes a connection after its greeting (else it stays open and silent). */
    private volatile boolean closeAfterGreeting;

    @BeforeEach
    void startServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        acceptor = Thread.ofPlatform().daemon().name("silent-server").start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.add(s);
                    byte[] g = greeting;
                    if (g != null) {
                        OutputStream out = s.getOutputStream();
                        out.write(g);
                        out.flush();
                        if (closeAfterGreeting) s.close();
                    }
                } catch (IOException e) {
                    // closed by the test, or a peer gone: keep accepting while open
                }
            }
        });
        timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("stopper").unstarted(r));
    }

    @AfterEach
    void stopServer() throws Exception {
        timer.shutdownNow();
        server.close();
        for (Socket s : accepted) s.close();
        acceptor.join(5000);
    }

    private String url(String scheme, String path) {
        return scheme + "://127.0.0.1:" + server.getLocalPort() + path;
    }

    private static double since(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** A Y4M stream (raw 4:2:0 frames behind a text header, FFmpeg's yuv4mpegpipe): needs no encoder. */
    private static byte[] y4m(int width, int height, int frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("YUV4MPEG2 W" + width + " H" + height + " F25:1 Ip A1:1 C420jpeg\n").getBytes(StandardCharsets.US_ASCII));
        for (int t = 0; t < frames; t++) {
            out.writeBytes("FRAME\n".getBytes(StandardCharsets.US_ASCII));
            byte[] plane = new byte[width * height + 2 * (width / 2) * (height / 2)];
            for (int i = 0; i < width * height; i++) plane[i] = (byte) (16 + (i % width + 3 * t) % 200);
            for (int i = width * height; i < plane.length; i++) plane[i] = (byte) 128;
            out.writeBytes(plane);
        }
        return out.toByteArray();
    }

    @Test
    @Timeout(30)
    void aSilentTcpPeerTimesOutTheOpen() {
        String source = url("tcp", "");
        long t0 = System.nanoTime();
        SegsaException e = assertThrows(SegsaException.class,
                () -> VideoSource.openSource(source, VideoSource.Options.ALL, new VideoSource.NetworkOptions(1, 1, null)).close());
        double took = since(t0);
        assertTrue(took < 3, "open took " + took + " s");
        assertTrue(took > 0.5, "open gave up after " + took + " s, before its timeout");
        assertFalse(accepted.isEmpty(), "FFmpeg never connected");
        assertEquals(source + ": did not open within 1 s (open timeout)", e.getMessage());
    }

    @Test
    @Timeout(30)
    void aSilentHttpPeerTimesOutTheOpen() {
        String source = url("http", "/x");
        long t0 = System.nanoTime();
        SegsaException e = assertThrows(SegsaException.class,
                () -> VideoSource.openSource(source, VideoSource.Options.ALL, new VideoSource.NetworkOptions(1, 1, null)).close());
        double took = since(t0);
        assertTrue(took < 3, "open took " + took + " s");
        assertFalse(accepted.isEmpty(), "FFmpeg never connected");
        assertTrue(e.getMessage().startsWith(source + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("did not open within 1 s"), e.getMessage());
    }

    @Test
    @Timeout(30)
    void stopEndsAnOpenLongBeforeItsTimeout() {
        AtomicBoolean stop = new AtomicBoolean();
        timer.schedule(() -> stop.set(true), 500, TimeUnit.MILLISECONDS);
        String source = url("tcp", "");
        long t0 = System.nanoTime();
        SegsaException e = assertThrows(SegsaException.class,
                () -> VideoSource.openSource(source, VideoSource.Options.ALL, new VideoSource.NetworkOptions(30, 30, stop::get)).close());
        double took = since(t0);
        assertTrue(took < 3, "open took " + took + " s after a stop at 0.5 s");
        assertEquals(SegsaException.Kind.STOPPED, e.kind());
        assertEquals(source + ": stopped while opening", e.getMessage());
    }

    @Test
    @Timeout(30)
    void aStreamThatFallsSilentTimesOutTheRead() {
        greeting = y4m(64, 48, 60);
        String source = url("tcp", "");
        int frames = 0;
        long t0 = System.nanoTime();
        try (VideoSource s = VideoSource.openSource(source, VideoSource.Options.ALL, new VideoSource.NetworkOptions(10, 1, null))) {
            assertEquals(64, s.width());
            assertEquals(48, s.height());
            var it = s.iterator();
            SegsaException e = assertThrows(SegsaException.class, () -> {
                while (it.hasNext()) it.next();
            });
            assertTrue(e.getMessage().startsWith(source + ": no data for 1 s (read timeout), after frame "), e.getMessage());
            frames = Integer.parseInt(e.getMessage().replaceFirst(".*after frame ", ""));
        }
        double took = since(t0);
        assertTrue(took < 8, "open, 60 frames and a read timeout of 1 s took " + took + " s");
        // the server sent 60 frames: all of them came out before the timeout (frame indices count from 0)
        assertEquals(59, frames);
    }

    @Test
    @Timeout(30)
    void stopEndsTheIterationQuietly() {
        greeting = y4m(64, 48, 20);
        AtomicBoolean stop = new AtomicBoolean();
        String source = url("tcp", "");
        for (int ahead : new int[] {0, 2}) {
            stop.set(false);
            int frames = 0;
            long t0;
            try (VideoSource s = VideoSource.openSource(source, new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, ahead),
                    new VideoSource.NetworkOptions(30, 30, stop::get))) {
                timer.schedule(() -> stop.set(true), 500, TimeUnit.MILLISECONDS);
                t0 = System.nanoTime();
                for (VideoSource.VideoFrame f : s) frames++;
            }
            double took = since(t0);
            assertTrue(took < 3, "ahead " + ahead + ": the iteration ended " + took + " s after it began, with a stop at 0.5 s");
            assertEquals(20, frames, "ahead " + ahead);
        }
    }

    @Test
    @Timeout(30)
    void aStreamThatEndsIsReadToItsEnd() {
        greeting = y4m(64, 48, 30);
        closeAfterGreeting = true;
        int frames = 0;
        try (VideoSource s = VideoSource.openSource(url("tcp", ""), VideoSource.Options.ALL, new VideoSource.NetworkOptions(5, 5, null))) {
            for (VideoSource.VideoFrame f : s) assertEquals(frames++, f.index());
        }
        assertEquals(30, frames);
    }

    @Test
    @Timeout(30)
    void aRefusedConnectionFailsAtOnce() throws IOException {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = closed.getLocalPort();
        }
        String source = "tcp://127.0.0.1:" + port;
        long t0 = System.nanoTime();
        SegsaException e = assertThrows(SegsaException.class,
                () -> VideoSource.openSource(source, VideoSource.Options.ALL, new VideoSource.NetworkOptions(10, 10, null)).close());
        assertTrue(since(t0) < 5, "a refused connection took " + since(t0) + " s");
        assertTrue(e.getMessage().startsWith(source + ": cannot open video"), e.getMessage());
    }

    @Test
    void networkOptionsRefuseTimeoutsThatAreNotFinitePositiveSeconds() {
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0, -0.0, -1}) {
            assertThrows(IllegalArgumentException.class, () -> new VideoSource.NetworkOptions(bad, 1, null), "open timeout " + bad);
            assertThrows(IllegalArgumentException.class, () -> new VideoSource.NetworkOptions(1, bad, null), "read timeout " + bad);
        }
        VideoSource.NetworkOptions ok = new VideoSource.NetworkOptions(0.25, 1e6, () -> false);
        assertEquals(0.25, ok.openTimeoutSeconds());
        assertEquals(10, VideoSource.NetworkOptions.DEFAULTS.openTimeoutSeconds());
        assertEquals(5, VideoSource.NetworkOptions.DEFAULTS.readTimeoutSeconds());
        assertNull(VideoSource.NetworkOptions.DEFAULTS.stop());
    }
}
