package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.io.OutputFiles;
import dev.segsa.io.Progress;
import dev.segsa.video.VideoWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "encode", mixinStandardHelpOptions = true,
        description = {"Encodes a folder of frames (file-name order, all of one size) as an MP4 (H.264), e.g. to score a "
                + "sequence as a video or to make a test recording.",
                "",
                "Example: segsa encode --images camvid/val --fps 30 --out camvid-val.mp4"})
final class EncodeCommand implements Callable<Integer> {
    @Option(names = "--images", required = true, paramLabel = "DIR", description = "Frames (PNG, JPEG, BMP).")
    Path images;

    @Option(names = "--fps", paramLabel = "F", converter = FiniteNumber.FrameRate.class, defaultValue = "30", description = "Frames per second (default ${DEFAULT-VALUE}).")
    double fps;

    @Option(names = "--bitrate", paramLabel = "BPS", defaultValue = "8000000", description = "H.264 bit rate (default ${DEFAULT-VALUE}).")
    int bitrate;

    @Option(names = "--out", required = true, paramLabel = "FILE.mp4", description = "The video to write.")
    Path out;

    @Override
    public Integer call() {
        OutputFiles.protect(images);
        OutputFiles.checkWritableFile(out, "--out");
        List<Path> frames = FrameReader.listFrames(images);
        BufferedImage first = FrameReader.readImage(frames.get(0));
        Progress progress = new Progress("encode", frames.size());
        VideoWriter w = VideoWriter.open(out, first.getWidth(), first.getHeight(), fps, bitrate);
        try {
            for (Path f : frames) {
                BufferedImage img = f.equals(frames.get(0)) ? first : FrameReader.readImage(f);
                if (img.getWidth() != w.width() || img.getHeight() != w.height()) {
                    throw new SegsaException(f + ": frame is " + img.getWidth() + "x" + img.getHeight() + ", the first frame is "
                            + w.width() + "x" + w.height());
                }
                w.write(img);
                progress.step();
            }
            w.close();
        } catch (RuntimeException e) {
            w.abort();
            throw e;
        }
        System.out.printf(Locale.ROOT, "wrote %s (%d frames, %dx%d, %.2f fps)%n", out, frames.size(), w.width(), w.height(), fps);
        return 0;
    }
}
