package dev.segsa.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGINT and SIGTERM as a request to stop: a long-running command ({@code watch}) sets a flag,
 * finishes the frame in hand, flushes what is pending and exits 0, instead of the JVM's default
 * (shutdown at once, exit 130 / 143). A second signal while stopping falls back to the default.
 */
final class Signals {
    private Signals() {}

    private static volatile String last;

    /** The name of the last stop signal received (INT or TERM), or null. */
    static String lastSignal() {
        return last;
    }

    /** Installs the handlers; returns what restores the previous ones. */
    static List<Runnable> onStop(AtomicBoolean stop) {
        List<Runnable> restore = new ArrayList<>();
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal signal = new sun.misc.Signal(name);
                sun.misc.SignalHandler[] previous = new sun.misc.SignalHandler[1];
                previous[0] = sun.misc.Signal.handle(signal, s -> {
                    last = name;
                    if (stop.getAndSet(true)) SegsaCommand.forcedExit(name, "a second signal");  // at once, no native teardown
                    else System.err.println("\nsegsa: SIG" + name + ": finishing the frame in hand and flushing (again to stop at once)");
                });
                restore.add(() -> sun.misc.Signal.handle(signal, previous[0]));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the signal is not available here (or the VM uses it): the default stays
            }
        }
        return restore;
    }
}
