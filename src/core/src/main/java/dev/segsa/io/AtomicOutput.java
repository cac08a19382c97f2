package dev.segsa.io;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes an output file all or nothing: into a temporary file beside it
 * ({@code .<name>.segsa-tmp-<pid>-<random>}, created with the permissions the umask gives), then
 * renamed over the target. A failure at any point leaves no partial output behind, and a
 * temporary left by a killed run (its process gone) is removed by the next write of the same
 * output. The target is checked first ({@link OutputFiles#checkFile}): never a symbolic link, a
 * directory, a device or a FIFO, never one of the run's inputs.
 */
public final class AtomicOutput {
    /** Marks segsa's temporary files: {@code .<output name>.segsa-tmp-<pid>-<random>}. */
    public static final String TEMP_MARK = ".segsa-tmp-";

    private AtomicOutput() {}

    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    public static void write(Path target, byte[] bytes) {
        write(target, out -> out.write(bytes));
    }

    public static void write(Path target, Writer writer) {
        Path abs = target.toAbsolutePath().normalize();
        OutputFiles.checkFile(abs, null);
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            removeStaleTemporaries(dir, abs.getFileName().toString());
            tmp = dir.resolve("." + abs.getFileName() + TEMP_MARK + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE))) {
                writer.write(out);
            }
            // the target may have changed since the check: never rename over a link or a non-file
            if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(abs, LinkOption.NOFOLLOW_LINKS)) {
                throw new SegsaException(target + ": exists and is not a regular file; not replaced");
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new SegsaException(target + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; the next write of this output removes it
                }
            }
        }
    }

    /** Deletes {@code .<name>.segsa-tmp-<pid>-*} files in {@code dir} whose process is gone. */
    static void removeStaleTemporaries(Path dir, String name) {
        String prefix = "." + name + TEMP_MARK;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> p.getFileName().toString().startsWith(prefix))) {
            for (Path p : s) {
                String rest = p.getFileName().toString().substring(prefix.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isPresent()) continue;
                if (pid == ProcessHandle.current().pid()) continue;
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a directory we cannot list: the write itself reports the problem
        }
    }
}
