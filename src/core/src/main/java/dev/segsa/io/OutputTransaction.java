package dev.segsa.io;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The outputs of one batch run, put in place all or none: each output is written to a staged
 * temporary beside its target ({@link #stage}), whole and on disk, and only when every one of them
 * is complete does {@link #commit} rename them over their targets (renames within a folder need no
 * space, so a full disk fails the run while the staging is written, before any target changes).
 * Closing without a commit removes the staged files and leaves every target as it was.
 */
public final class OutputTransaction implements AutoCloseable {
    private final List<Path[]> staged = new ArrayList<>();
    private boolean committed;

    /**
     * A temporary path beside {@code target} to write it to; its name ends with the target's name
     * (so a writer that chooses its format by the extension still does).
     */
    public Path stage(Path target) {
        if (committed) throw new IllegalStateException("the outputs were already put in place");
        Path abs = target.toAbsolutePath().normalize();
        Path tmp = abs.resolveSibling("." + AtomicOutput.TEMP_MARK.substring(1) + "txn-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "-" + abs.getFileName());
        staged.add(new Path[] {tmp, target});
        return tmp;
    }

    /** Renames every staged file over its target, after checking each target again; the staged files must all exist. */
    public void commit() {
        for (Path[] s : staged) {
            if (!Files.isRegularFile(s[0])) throw new SegsaException(s[1] + ": its output was not written; nothing put in place");
            OutputFiles.checkFile(s[1], null);
        }
        for (Path[] s : staged) {
            try {
                Files.move(s[0], s[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new SegsaException(s[1] + ": cannot put the output in place: " + e.getMessage(), e);
            }
        }
        committed = true;
    }

    /** Removes what was staged and not committed. */
    @Override
    public void close() {
        if (committed) return;
        for (Path[] s : staged) {
            try {
                Files.deleteIfExists(s[0]);
            } catch (IOException ignored) {
                // a temporary left behind is named as one (.segsa-tmp-)
            }
        }
    }
}
