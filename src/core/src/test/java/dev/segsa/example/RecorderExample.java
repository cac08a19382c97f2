package dev.segsa.example;

import dev.segsa.Segsa;
import dev.segsa.features.PixelFormat;
import dev.segsa.score.FrameResult;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The README's "Embedding segsa" example, compiled and run by {@code EmbeddingExampleTest}
 * (which also checks that the README shows exactly the code between the markers).
 */
public final class RecorderExample {
    private RecorderExample() {}

    public static void main(String[] args) throws Exception {
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), System.out);
    }

    static FrameResult[] run(Path model, Path saFile, Path frameFile, PrintStream out) throws Exception {
        // README:start
        try (Segsa segsa = Segsa.builder(model, saFile).saThreshold(10.0).open()) {
            // a decoded image
            BufferedImage image = ImageIO.read(frameFile.toFile());
            FrameResult fromImage = segsa.score(image, frameFile.getFileName().toString());

            // a camera buffer: packed 8-bit BGR, each row padded to 64 bytes, read in place
            int w = image.getWidth(), h = image.getHeight(), stride = (3 * w + 63) / 64 * 64;
            ByteBuffer camera = ByteBuffer.allocateDirect(stride * h);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = image.getRGB(x, y);
                    camera.put(y * stride + 3 * x, (byte) rgb);              // blue
                    camera.put(y * stride + 3 * x + 1, (byte) (rgb >> 8));   // green
                    camera.put(y * stride + 3 * x + 2, (byte) (rgb >> 16));  // red
                }
            }
            FrameResult fromCamera = segsa.score(camera, w, h, stride, PixelFormat.BGR, "camera-0/000001");

            // read the result: per class pixels, mean / p95 MDSA and the share above the threshold
            out.printf("%s: image MDSA %.3f, backend %s%n", fromCamera.frame(), fromCamera.imageMdsa(), segsa.backend());
            for (int c = 0; c < fromCamera.classes(); c++) {
                if (fromCamera.predictedPixels()[c] == 0) continue;
                out.printf("  %-12s %7d px  mean %7.3f  p95 %7.3f  above 10: %5.1f%%%n", fromCamera.classNames().get(c),
                        fromCamera.predictedPixels()[c], fromCamera.mdsaMean()[c], fromCamera.mdsaP95()[c],
                        100 * fromCamera.shareAboveThreshold()[c]);
            }
            float[] heatmap = fromCamera.copyMdsaMap();  // the live view, mdsaMap(), is valid until this thread's next frame
            out.println(heatmap.length + " pixel SA values; latency so far:");
            out.println(segsa.latency().table());
            return new FrameResult[] {fromImage, fromCamera};
        }
        // README:end
    }
}
