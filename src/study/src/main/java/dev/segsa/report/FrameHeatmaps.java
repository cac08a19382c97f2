package dev.segsa.report;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.Segsa;
import dev.segsa.score.FrameResult;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores chosen frames again with per-pixel maps and writes one {@link HeatmapImage} per frame
 * (the frame with its MDSA overlaid beside the predicted classes), all on one colour scale (the
 * 1st to 99th percentile of their pixels' MDSA) so they compare.
 */
public final class FrameHeatmaps {
    private FrameHeatmaps() {}

    /** One frame to draw: its file name in the image directory, the output file name and its caption. */
    public record Request(String image, String outputName, String title) {}

    public static void write(List<Request> requests, Path imageDir, Segsa engine, Path outDir) {
        List<float[]> maps = new ArrayList<>();
        List<int[]> sizes = new ArrayList<>();
        List<BufferedImage> images = new ArrayList<>();
        List<int[]> predicted = new ArrayList<>();
        int total = 0;
        for (Request r : requests) {
            Path file = imageDir.resolve(r.image());
            BufferedImage img = FrameReader.readImage(file);
            FrameResult res = engine.score(img, r.image());
            if (!res.scored()) throw new SegsaException(file + ": no SA map (NaN/Inf features or logits)");
            float[] map = res.copyMdsaMap();
            maps.add(map);
            predicted.add(res.copyPredictedMap());
            sizes.add(new int[] {res.width(), res.height()});
            images.add(img);
            total += map.length;
        }
        float[] finite = new float[total];
        int n = 0;
        for (float[] m : maps) for (float v : m) if (Float.isFinite(v)) finite[n++] = v;
        Arrays.sort(finite, 0, n);
        double lo = n == 0 ? 0 : finite[(int) (0.01 * (n - 1))];
        double hi = n == 0 ? 1 : finite[(int) (0.99 * (n - 1))];
        for (int i = 0; i < requests.size(); i++) {
            Request r = requests.get(i);
            int[] size = sizes.get(i);
            HeatmapImage.write(HeatmapImage.render(images.get(i), maps.get(i), predicted.get(i), engine.classNames(), size[0], size[1], lo,
                    hi, r.title()),
                    outDir.resolve(r.outputName()));
        }
    }
}
