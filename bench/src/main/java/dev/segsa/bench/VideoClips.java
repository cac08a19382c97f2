package dev.segsa.bench;

import dev.segsa.video.VideoSource;
import dev.segsa.video.VideoWriter;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Video measurements that are not JMH benchmarks (a clip of minutes is one "operation"):
 * <pre>
 *   make   OUT.mp4 SECONDS [W H FPS]   a synthetic moving road-like clip, H.264 (default 1920x1080 at 24 fps)
 *   decode IN.mp4                      decode every frame to packed RGB (2 frames ahead), frames/s and
 *                                      the JVM's VmRSS every 10% of the clip
 * </pre>
 * Run by bench/video.sh.
 */
public final class VideoClips {
    private VideoClips() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "make" -> make(Path.of(args[1]), Double.parseDouble(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 1920,
                    args.length > 4 ? Integer.parseInt(args[4]) : 1080, args.length > 5 ? Double.parseDouble(args[5]) : 24);
            case "decode" -> decode(Path.of(args[1]));
            default -> throw new IllegalArgumentException("make | decode");
        }
    }

    static void make(Path out, double seconds, int w, int h, double fps) {
        int n = (int) Math.round(seconds * fps);
        ByteBuffer rgb = ByteBuffer.allocateDirect(w * h * 3);
        long t0 = System.nanoTime();
        try (VideoWriter v = VideoWriter.open(out, w, h, fps, 8_000_000)) {
            for (int i = 0; i < n; i++) {
                // a sky gradient, a road trapezoid with moving lane marks, a drifting "vehicle" block
                int horizon = h * 2 / 5;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int r, g, b;
                        if (y < horizon) {
                            r = 110 + y * 60 / horizon; g = 150 + y * 50 / horizon; b = 220;
                        } else {
                            double t = (double) (y - horizon) / (h - horizon);
                            int half = (int) (w * (0.08 + 0.42 * t));
                            boolean road = Math.abs(x - w / 2) < half;
                            boolean mark = road && Math.abs(x - w / 2) < 4 + 6 * t && ((y + i * 9) / 40) % 2 == 0;
                            r = mark ? 240 : road ? 80 : 60 + (x * 7 + y * 3) % 40; g = mark ? 240 : road ? 82 : 110; b = mark ? 230 : road ? 88 : 50;
                        }
                        int cx = (int) (w * 0.5 + w * 0.2 * Math.sin(i / 60.0)), cy = h * 3 / 5;
                        if (Math.abs(x - cx) < w / 20 && Math.abs(y - cy) < h / 16) { r = 180; g = 30; b = 40; }
                        int o = 3 * (y * w + x);
                        rgb.put(o, (byte) r).put(o + 1, (byte) g).put(o + 2, (byte) b);
                    }
                }
                v.write(rgb, 3 * w);
            }
        }
        System.out.printf(Locale.ROOT, "made %s: %d frames %dx%d at %.1f fps (%.1f s of video) in %.1f s%n", out, n, w, h, fps, seconds,
                (System.nanoTime() - t0) / 1e9);
    }

    static void decode(Path in) throws Exception {
        long t0 = System.nanoTime();
        int n = 0;
        long checksum = 0;
        try (VideoSource v = VideoSource.open(in, VideoSource.Options.ALL)) {
            int total = Math.max(1, v.lengthInFrames());
            int step = Math.max(1, total / 10);
            System.out.printf(Locale.ROOT, "decode %s: %dx%d, %d frames stated%n", in.getFileName(), v.width(), v.height(), total);
            for (VideoSource.VideoFrame f : v) {
                checksum += f.pixels().get((n * 7919) % f.pixels().capacity());
                if (++n % step == 0) {
                    System.out.printf(Locale.ROOT, "  frame %6d  %6.1f frames/s  VmRSS %d KiB%n", n, n / ((System.nanoTime() - t0) / 1e9), rss());
                }
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "decoded %d frames in %.1f s: %.1f frames/s (checksum %d)%n", n, s, n / s, checksum);
    }

    static long rss() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }
}
