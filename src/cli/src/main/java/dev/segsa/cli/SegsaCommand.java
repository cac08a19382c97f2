package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.io.OutputFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code segsa} command line: one subcommand per step of the workflow. */
@Command(name = "segsa", mixinStandardHelpOptions = true, versionProvider = SegsaCommand.Version.class,
        description = {"Surprise Adequacy for semantic segmentation: ranks camera frames by how surprising they are "
                + "to a segmentation network, so that labelling can skip the frames it already handles."},
        subcommands = {FitCommand.class, ScoreCommand.class, FitRiskCommand.class, BenchCommand.class, RenderCommand.class, TimelineCommand.class, EncodeCommand.class, TrainCommand.class, EvaluateCommand.class, SelectCommand.class, DecideCommand.class, WatchCommand.class, DemoCommand.class, GenerateCommand.class, CommandLine.HelpCommand.class})
public final class SegsaCommand implements Runnable {
    /** Exit status for errors in the input (files, models, options). */
    public static final int EXIT_INPUT_ERROR = 1;
    /** Exit status for a bad command line (picocli's). */
    public static final int EXIT_USAGE = 2;
    /** Exit status when training stopped before its last epoch (checkpointed). */
    public static final int EXIT_STOPPED = 3;
    /** Exit status for an unexpected internal error (a bug): one line, --debug shows the stack trace. */
    public static final int EXIT_INTERNAL_ERROR = 4;
    /** Exit status when --skip-bad-frames skipped frames (without --allow-skipped). */
    public static final int EXIT_FRAMES_SKIPPED = 5;

    private static volatile boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the stack trace of an error after its one-line message.")
    void setDebug(boolean on) {
        debug = on;
    }

    @CommandLine.Option(names = "--max-pixels", paramLabel = "N", scope = CommandLine.ScopeType.INHERIT,
            description = "Refuse image files that declare more than N pixels, before decoding them (default 67108864 = 64 Mi).")
    void setMaxPixels(long limit) {
        dev.segsa.features.FrameReader.setMaxPixels(limit);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (segsa --help lists them)");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SegsaCommand());
        cl.setExecutionStrategy(parsed -> {
            try (OutputFiles.Scope scope = OutputFiles.scope()) {
                return new CommandLine.RunLast().execute(parsed);
            } catch (OutOfMemoryError e) {
                CommandLine sub = parsed.subcommand() != null ? parsed.subcommand().commandSpec().commandLine() : cl;
                sub.getErr().println(prefix(sub) + "error: out of memory (" + e.getMessage() + "); give Java more with "
                        + "SEGSA_JAVA_OPTS=-Xmx..., or use smaller frames");
                if (debug) e.printStackTrace(sub.getErr());
                return EXIT_INPUT_ERROR;
            } finally {
                debug = false;
                dev.segsa.features.FrameReader.setMaxPixels(
                        Long.getLong("segsa.maxPixels", dev.segsa.features.FrameReader.DEFAULT_MAX_PIXELS));
            }
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof dev.segsa.io.StopRequest.Stopped stopped) {
                cmd.getErr().println(prefix(cmd) + stopped.getMessage());
                return stopped.exitStatus();
            }
            boolean user = ex instanceof SegsaException || ex instanceof IllegalArgumentException;
            String message = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            if (user) {
                cmd.getErr().println(prefix(cmd) + "error: " + message);
            } else {
                cmd.getErr().println(prefix(cmd) + "error: " + ex.getClass().getSimpleName() + ": " + firstLine(message)
                        + " (unexpected: please report it; --debug shows where)");
            }
            if (debug) ex.printStackTrace(cmd.getErr());
            return user ? EXIT_INPUT_ERROR : EXIT_INTERNAL_ERROR;
        });
        return cl;
    }

    private static String prefix(CommandLine cmd) {
        return "segsa " + (cmd.getCommandName().equals("segsa") ? "" : cmd.getCommandName() + ": ");
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public static void main(String[] args) {
        // java.util.logging's notes (the backend chosen, once) on one line, not the default two (date and source first)
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        stopOnSignals();
        System.exit(commandLine().execute(args));
    }

    /**
     * SIGINT and SIGTERM ask the run to stop before its next frame ({@link dev.segsa.io.StopRequest}):
     * the frame in hand finishes, temporaries are removed, outputs stay as they were, and the exit
     * status is 130 (SIGINT) or 143 (SIGTERM). A second signal stops at once, and so does the first
     * after {@link #STOP_GRACE_MS} when nothing took it ({@link #forcedExit}: no native teardown).
     * {@code watch} installs its own handlers (stop and flush, exit 0) for its run.
     */
    /** How long the first signal waits for a frame loop to take it before the process ends at once ({@code segsa.stopGraceMs}). */
    static final long STOP_GRACE_MS = Long.getLong("segsa.stopGraceMs", 10_000);

    /**
     * Ends the process at once after a stop signal (a second one, or a first that no frame loop
     * took): one line, exit 130 (SIGINT) or 143 (SIGTERM), through {@link NativeExit} so no native
     * code is torn down under a forward still running on another thread (no crash, no hs_err file).
     */
    static void forcedExit(String name, String why) {
        int status = name.equals("INT") ? 130 : 143;
        System.err.println("segsa: SIG" + name + ": stopped at once (" + why + "); a temporary (*.segsa-tmp-*) may be left beside an output");
        NativeExit.now(status);
    }

    static void stopOnSignals() {
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal signal = new sun.misc.Signal(name);
                sun.misc.SignalHandler[] previous = new sun.misc.SignalHandler[1];
                previous[0] = sun.misc.Signal.handle(signal, sig -> {
                    if (dev.segsa.io.StopRequest.requested() != null) {
                        forcedExit(name, "a second signal");
                    } else {
                        dev.segsa.io.StopRequest.request("SIG" + name);
                        System.err.println("\nsegsa: SIG" + name + ": stopping after the frame in hand (again to stop at once)");
                        // a command with no frame loop (evaluate, select, decide --study) or a stalled stream never takes the
                        // request: after a grace period the signal takes its default course
                        Thread.ofPlatform().daemon().name("segsa-stop-grace").start(() -> {
                            try {
                                Thread.sleep(STOP_GRACE_MS);
                            } catch (InterruptedException e) {
                                return;
                            }
                            forcedExit(name, "no frame loop took the stop request within " + STOP_GRACE_MS / 1000.0 + " s");
                        });
                    }
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the signal is not available here (or the VM uses it): the default stays
            }
        }
    }

    /**
     * {@code segsa --version}: the project's version (from the build) and, when segsa runs from a
     * git checkout ({@code -Dsegsa.home}, as the launcher sets it), the commit and whether the tree
     * has changes; then the JDK, LibTorch's version as packaged and the kernels' ISA.
     */
    /** segsa's version from the build ("unknown" when it was not recorded). */
    static String version() {
        try (java.io.InputStream in = SegsaCommand.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = "unknown";
            try (java.io.InputStream in = SegsaCommand.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    java.util.Properties p = new java.util.Properties();
                    p.load(in);
                    v = p.getProperty("version", v);
                }
            } catch (java.io.IOException ignored) {
                // unknown
            }
            String commit = commit();
            String isa;
            try {
                isa = dev.segsa.nativelib.NativeLibrary.Cpu.isa();
            } catch (RuntimeException | LinkageError e) {
                isa = "native library not loaded";
            }
            return new String[] {"segsa " + v + (commit == null ? "" : " (commit " + commit + ")"),
                    "JDK " + Runtime.version() + ", LibTorch (JavaCPP presets) " + pytorchVersion() + ", kernels " + isa};
        }

        /** The checkout's commit ("abc1234", "+ changes" when the tree differs), or null outside a git checkout. */
        static String commit() {
            String home = System.getProperty("segsa.home");
            if (home == null || !java.nio.file.Files.isDirectory(java.nio.file.Path.of(home, ".git"))) return null;
            try {
                String head = run(home, "git", "rev-parse", "--short=12", "HEAD");
                if (head == null || head.isBlank()) return null;
                String status = run(home, "git", "status", "--porcelain", "--untracked-files=no");
                return head.strip() + (status != null && !status.isBlank() ? " + changes" : "");
            } catch (RuntimeException e) {
                return null;
            }
        }

        private static String run(String dir, String... cmd) {
            try {
                Process p = new ProcessBuilder(cmd).directory(new java.io.File(dir)).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                return p.waitFor() == 0 ? out : null;
            } catch (java.io.IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        private static String pytorchVersion() {
            Package p = org.bytedeco.pytorch.Tensor.class.getPackage();
            String v = p == null ? null : p.getImplementationVersion();
            return v != null ? v : "2.10.0-1.5.13";
        }
    }
}
