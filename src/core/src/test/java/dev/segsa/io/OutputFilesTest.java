package dev.segsa.io;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Outputs are refused when they are an input by another name (hard link, /dev/fd/N, file: URL) or a link to a folder. */
class OutputFilesTest {
    @TempDir
    Path dir;

    @Test
    void anInputReachedByAnotherNameIsNotAnOutput() throws Exception {
        Path video = Files.writeString(dir.resolve("drive.mp4"), "not really a video");
        Path hard = Files.createLink(dir.resolve("same.mp4"), video);
        try (OutputFiles.Scope s = OutputFiles.scope()) {
            OutputFiles.protect(video);
            SegsaException e = assertThrows(SegsaException.class, () -> OutputFiles.checkFile(hard, "--out"));
            assertTrue(e.getMessage().contains("same file by another name"), e.getMessage());
        }
        try (OutputFiles.Scope s = OutputFiles.scope()) {
            OutputFiles.protectSource(video.toUri().toString());  // file:///.../drive.mp4
            assertThrows(SegsaException.class, () -> OutputFiles.checkFile(video, "--out"));
        }
        // an input opened as a file descriptor (what `--video /dev/fd/N` or standard input names)
        try (FileInputStream in = new FileInputStream(video.toFile()); OutputFiles.Scope s = OutputFiles.scope()) {
            String fd = null;
            try (var fds = Files.list(Path.of("/proc/self/fd"))) {
                for (Path p : fds.toList()) {
                    try {
                        if (Files.isSameFile(Files.readSymbolicLink(p), video)) fd = p.getFileName().toString();
                    } catch (java.io.IOException ignored) {
                        // a descriptor closed meanwhile
                    }
                }
            }
            assertNotNull(fd, "the open file's descriptor");
            OutputFiles.protectSource("/dev/fd/" + fd);
            SegsaException e = assertThrows(SegsaException.class, () -> OutputFiles.checkFile(video, "--out"));
            assertTrue(e.getMessage().contains("inputs"), e.getMessage());
        }
        try (OutputFiles.Scope s = OutputFiles.scope()) {
            OutputFiles.protectSource("rtsp://camera.local/stream");  // names nothing here
            OutputFiles.checkFile(dir.resolve("evidence.mp4"), "--out");
        }
    }

    @Test
    void anOutputFolderIsNotALink() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        try (OutputFiles.Scope s = OutputFiles.scope()) {
            SegsaException e = assertThrows(SegsaException.class, () -> OutputFiles.checkDirectory(link, "--out"));
            assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
            OutputFiles.checkDirectory(real, "--out");
        }
    }
}
