package dev.segsa.cli;

/**
 * A process for {@link ForcedExitTest}: installs the command line's stop handlers, then holds a
 * thread that never takes the stop request (as a forward that never returns would), printing
 * "ready" once the handlers are in place.
 */
public final class StopGraceProbe {
    private StopGraceProbe() {}

    public static void main(String[] args) throws Exception {
        SegsaCommand.stopOnSignals();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println("shutdown hook ran")));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
