package dev.segsa.io;

import dev.segsa.error.SegsaException;

/**
 * A request to stop, from outside the work (SIGINT or SIGTERM, as the command line installs it):
 * long loops call {@link #check()} before each frame, so a run ends between frames, never with
 * native code torn down under a running forward. What the run had written stays a temporary and
 * is removed as on any failure; the outputs are left as they were.
 */
public final class StopRequest {
    private static volatile String signal;

    private StopRequest() {}

    /** Asks every loop to stop before its next frame; {@code why} names the cause, e.g. "SIGTERM". */
    public static void request(String why) {
        signal = why;
    }

    /** The pending request, or null. */
    public static String requested() {
        return signal;
    }

    public static void clear() {
        signal = null;
    }

    /** @throws Stopped when a stop was requested */
    public static void check() {
        String s = signal;
        if (s != null) throw new Stopped(s);
    }

    /** The run stopped on request; the conventional exit status is 128 + the signal number (130 for SIGINT, 143 for SIGTERM). */
    public static final class Stopped extends SegsaException {
        private final String why;

        Stopped(String why) {
            super(Kind.STOPPED, "stopped by " + why + " before the run finished; outputs left as they were, temporaries removed");
            this.why = why;
        }

        public String why() {
            return why;
        }

        public int exitStatus() {
            return switch (why) {
                case "SIGINT" -> 130;
                case "SIGTERM" -> 143;
                case "SIGHUP" -> 129;
                default -> 1;
            };
        }
    }
}
