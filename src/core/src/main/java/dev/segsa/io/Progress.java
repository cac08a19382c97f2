package dev.segsa.io;

import java.io.PrintStream;
import java.util.Locale;

/**
 * One progress line (done/total, frames/s, ETA) redrawn in place on a terminal; in a redirected
 * log, one such line every {@link #LOG_INTERVAL_NANOS} (30 s), so that a long run says how far it
 * is without filling the log (a short run writes nothing).
 */
public final class Progress {
    private final String what;
    /** What is counted, plural: "frames" unless given. */
    private final String unit;
    private final int total;
    private final PrintStream out;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int done;

    /** Seconds between the lines of a redirected log. */
    public static final long LOG_INTERVAL_NANOS = 30_000_000_000L;

    public Progress(String what, int total) {
        this(what, total, "frames");
    }

    /** Progress of {@code total} things named {@code unit} (plural: "classes"), on standard error. */
    public Progress(String what, int total, String unit) {
        this(what, total, unit, System.err, System.console() != null && System.console().isTerminal());
        this.logLines = !enabled;
    }

    private boolean logLines;

    public Progress(String what, int total, PrintStream out, boolean enabled) {
        this(what, total, "frames", out, enabled);
    }

    /** As {@link #Progress(String, int, PrintStream, boolean)}, counting {@code unit} (plural). */
    public Progress(String what, int total, String unit, PrintStream out, boolean enabled) {
        this.what = what;
        this.unit = unit;
        this.total = total;
        this.out = out;
        this.enabled = enabled;
    }

    public void step() {
        done++;
        if (logLines) {
            long now = System.nanoTime();
            if (now - start >= LOG_INTERVAL_NANOS && now - lastDraw >= LOG_INTERVAL_NANOS) {
                lastDraw = now;
                out.println(line(now).stripTrailing());
            }
            return;
        }
        if (!enabled) return;
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 200_000_000L) return;
        lastDraw = now;
        out.print("\r" + line(now));
        if (done == total) out.println();
        out.flush();
    }

    String line(long now) {
        double s = (now - start) / 1e9;
        double rate = s > 0 ? done / s : 0;
        double eta = rate > 0 ? (total - done) / rate : Double.NaN;
        return String.format(Locale.ROOT, "%s %d/%d %s  %.2f %s/s  ETA %s   ", what, done, total, unit, rate, unit, clock(eta));
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) return "--:--";
        long t = Math.round(seconds);
        return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                : String.format(Locale.ROOT, "%02d:%02d", t / 60, t % 60);
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }
}
