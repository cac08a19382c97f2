package dev.segsa.cli;

import dev.segsa.Segsa;

import java.util.List;

/** Lists the frames --skip-bad-frames left out, and chooses the exit status. */
final class SkippedFrames {
    private SkippedFrames() {}

    static int report(String command, List<Segsa.SkippedFrame> skipped, int frames, boolean allowSkipped) {
        if (skipped.isEmpty()) return 0;
        System.err.println("segsa " + command + ": skipped " + skipped.size() + " of " + frames + " frames:");
        for (Segsa.SkippedFrame s : skipped) System.err.println("  " + s.frame() + ": " + s.reason());
        return allowSkipped ? 0 : SegsaCommand.EXIT_FRAMES_SKIPPED;
    }
}
