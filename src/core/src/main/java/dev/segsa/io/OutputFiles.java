package dev.segsa.io;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one check every output goes through, before the first frame and again when it is written:
 * an output file or folder is never a symbolic link; a file output never a directory, a device or a
 * FIFO, and never one of the run's inputs (by real path, and by file identity: device and inode,
 * so standard input, {@code /dev/fd/N} and {@code file:} URLs are recognised), nor inside an input
 * folder; its folder must be writable. Inputs
 * are declared with {@link #protect} in a {@link #scope()} (one per command run).
 */
public final class OutputFiles {
    private static final Set<Path> PROTECTED_FILES = ConcurrentHashMap.newKeySet();
    private static final Set<Path> PROTECTED_DIRS = ConcurrentHashMap.newKeySet();
    /** The inputs' file identities (device and inode), so an output reached by another name is still recognised. */
    private static final Set<Object> PROTECTED_IDS = ConcurrentHashMap.newKeySet();
    /** The outputs of this run by real path, and the option that named each. */
    private static final java.util.Map<Path, String> CLAIMED = new ConcurrentHashMap<>();

    private OutputFiles() {}

    /** Forgets the declared inputs when closed. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    public static Scope scope() {
        PROTECTED_FILES.clear();
        PROTECTED_DIRS.clear();
        PROTECTED_IDS.clear();
        CLAIMED.clear();
        return () -> {
            PROTECTED_FILES.clear();
            PROTECTED_DIRS.clear();
            PROTECTED_IDS.clear();
            CLAIMED.clear();
        };
    }

    /** Declares an input file or folder of this run: no output may replace it or be written inside it. */
    public static void protect(Path input) {
        if (input == null) return;
        Path real = real(input);
        if (Files.isDirectory(real)) PROTECTED_DIRS.add(real);
        else PROTECTED_FILES.add(real);
        Object id = identity(input);
        if (id != null) PROTECTED_IDS.add(id);
    }

    /**
     * Declares a source named as FFmpeg takes it: {@code -} and {@code /dev/stdin} (standard input,
     * by what file descriptor 0 is), {@code /dev/fd/N}, a {@code file:} URL, or a path; other URLs
     * (rtsp://, http://, ...) and cameras name nothing on this machine's disks.
     */
    public static void protectSource(String source) {
        if (source == null || source.isBlank()) return;
        if (source.equals("-") || source.equals("/dev/stdin")) {
            protect(Path.of("/proc/self/fd/0"));
            return;
        }
        if (source.regionMatches(true, 0, "file:", 0, 5)) {
            try {
                protect(Path.of(java.net.URI.create(source)));
            } catch (IllegalArgumentException e) {
                protect(Path.of(source.substring(5)));
            }
            return;
        }
        if (source.contains("://") || source.startsWith("/dev/video")) return;
        protect(Path.of(source));
    }

    /** A file's identity (device and inode on Linux), following links; null when it cannot be read. */
    private static Object identity(Path p) {
        try {
            return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    private static void checkIdentity(Path out, String what) {
        if (!Files.exists(out)) return;
        Object id = identity(out);
        if (id != null && PROTECTED_IDS.contains(id)) {
            throw new SegsaException(what + ": is one of this run's inputs (the same file by another name); refusing to overwrite it");
        }
    }

    private static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            // not there yet: resolve the nearest existing parent
            Path parent = abs.getParent();
            return parent == null ? abs : real(parent).resolve(abs.getFileName());
        }
    }

    /**
     * Checks an output file before anything is computed for it.
     *
     * @param option names the option in messages (e.g. "--out"), or null
     */
    public static void checkFile(Path out, String option) {
        String what = (option == null ? "" : option + " ") + out;
        if (Files.isSymbolicLink(out)) throw new SegsaException(what + ": is a symbolic link; segsa does not write through links");
        if (Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) throw new SegsaException(what + ": is a directory, expected a file");
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(out, LinkOption.NOFOLLOW_LINKS)) {
            throw new SegsaException(what + ": exists and is not a regular file (a device, FIFO or socket); not replaced");
        }
        Path real = real(out);
        if (PROTECTED_FILES.contains(real)) throw new SegsaException(what + ": is one of this run's inputs; refusing to overwrite it");
        checkIdentity(out, what);
        claim(real, option, what);
        for (Path d : PROTECTED_DIRS) {
            if (real.startsWith(d)) throw new SegsaException(what + ": is inside the input folder " + d + "; write it elsewhere");
        }
    }

    /** Two outputs of one run on one path: refused when the second is checked, before any work. */
    private static void claim(Path real, String option, String what) {
        if (option == null) return; // the re-check at write time
        String before = CLAIMED.putIfAbsent(real, option);
        if (before != null && !before.equals(option)) {
            throw new SegsaException(what + ": is also " + before + " of this run; give each output its own path (nothing written)");
        }
    }

    /** Checks an output file and that its folder exists (or can be made) and takes a new file. */
    public static void checkWritableFile(Path out, String option) {
        checkFile(out, option);
        Path dir = out.toAbsolutePath().normalize().getParent();
        probe(dir, (option == null ? "" : option + " ") + out);
    }

    /** Checks an output folder: not a file, not an input folder (nor inside one), writable. */
    public static void checkDirectory(Path out, String option) {
        String what = (option == null ? "" : option + " ") + out;
        if (Files.isSymbolicLink(out)) throw new SegsaException(what + ": is a symbolic link; segsa does not write through links");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new SegsaException(what + ": exists and is not a directory");
        checkIdentity(out, what);
        Path real = real(out);
        if (PROTECTED_FILES.contains(real)) throw new SegsaException(what + ": is one of this run's inputs");
        claim(real, option, what);
        for (Path d : PROTECTED_DIRS) {
            if (real.startsWith(d)) {
                throw new SegsaException(what + ": is, or is inside, the input folder " + d + "; write it elsewhere");
            }
        }
        probe(out.toAbsolutePath().normalize(), what);
    }

    /**
     * Checks that {@code dir} can take a new file without changing anything: the nearest existing
     * folder on its path must be a directory in which a file can be created (tried and removed).
     */
    private static void probe(Path dir, String what) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) throw new SegsaException(what + ": no existing folder on the path " + dir);
        if (!Files.isDirectory(existing)) throw new SegsaException(what + ": cannot write in " + dir + ": " + existing + " is not a directory");
        try {
            Path p = Files.createTempFile(existing, ".segsa-probe-", ".tmp");
            Files.delete(p);
        } catch (IOException | SecurityException e) {
            throw new SegsaException(what + ": cannot write in " + dir + ": " + e.getMessage(), e);
        }
    }
}
