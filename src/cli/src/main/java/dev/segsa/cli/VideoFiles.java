package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.video.VideoSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** The video files of a --video argument: the file itself, or a folder's videos sorted by name. */
final class VideoFiles {
    static final List<String> EXTENSIONS = List.of(".mp4", ".mkv", ".mov", ".avi", ".webm", ".ts", ".m4v", ".mpg", ".mpeg");
    static final String EXTENSIONS_TEXT = ".mp4, .mkv, .mov, .avi, .webm, .ts, .m4v, .mpg, .mpeg";

    private VideoFiles() {}

    static List<Path> list(Path fileOrDir) {
        if (Files.isRegularFile(fileOrDir)) return List.of(fileOrDir);
        if (!Files.isDirectory(fileOrDir)) throw new SegsaException(fileOrDir + ": video file or folder not found");
        try (Stream<Path> s = Files.list(fileOrDir)) {
            List<Path> out = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return EXTENSIONS.stream().anyMatch(n::endsWith);
            }).sorted().toList();
            if (out.isEmpty()) throw new SegsaException(fileOrDir + ": no video files (" + EXTENSIONS_TEXT + ")");
            return out;
        } catch (IOException e) {
            throw new SegsaException(fileOrDir + ": cannot list videos: " + e.getMessage(), e);
        }
    }

    /** Frames the options keep, from the containers' stated lengths (for progress; 0 when unknown). */
    /**
     * Frames the options keep in the videos, from their containers. A video that cannot be opened
     * fails here, before any work, unless {@code skipBadFrames}: then it counts 0 and the run lists it.
     */
    static int estimatedFrames(List<Path> videos, VideoSource.Options options, boolean skipBadFrames) {
        int n = 0;
        for (Path v : videos) {
            try (VideoSource s = VideoSource.open(v, options)) {
                n += s.estimatedFrames();
            } catch (dev.segsa.error.SegsaException e) {
                if (!skipBadFrames) throw e;
            }
        }
        return n;
    }
}
