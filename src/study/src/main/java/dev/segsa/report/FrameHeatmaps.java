package dev.segsa.report;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModel;
import dev.segsa.score.FrameScorer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores chosen frames again with per-pixel maps and writes one {@link HeatmapImage} per frame,
 * all on one colour scale (the 1st to 99th percentile of their pixels' MDSA) so they compare.
 */
public final class FrameHeatmaps {
    private FrameHeatmaps() {}

    /** One frame to draw: its file name in the image directory, the output file name and its caption. */
    public record Request(String image, String outputName, String title) {}

    public static void write(List<Request> requests, Path imageDir, FrameScorer scorer, SaModel sa, Path outDir) {
        SaModel.FitSettings fs = sa.settings();
        FrameReader reader = new FrameReader(fs.mean(), fs.std(), fs.resize());
        List<float[]> maps = new ArrayList<>();
        List<FrameReader.Frame> frames = new ArrayList<>();
        int total = 0;
        for (Request r : requests) {
            FrameReader.Frame frame = reader.readFrame(imageDir.resolve(r.image()), null);
            FrameScorer.Result res = scorer.score(frame.chw(), frame.height(), frame.width(), r.image(), true);
            if (res.mdsaMap() == null) throw new SegsaException(imageDir.resolve(r.image()) + ": no SA map (NaN/Inf features)");
            maps.add(res.mdsaMap());
            frames.add(frame);
            total += res.mdsaMap().length;
        }
        float[] finite = new float[total];
        int n = 0;
        for (float[] m : maps) for (float v : m) if (Float.isFinite(v)) finite[n++] = v;
        Arrays.sort(finite, 0, n);
        double lo = n == 0 ? 0 : finite[(int) (0.01 * (n - 1))];
        double hi = n == 0 ? 1 : finite[(int) (0.99 * (n - 1))];
        for (int i = 0; i < requests.size(); i++) {
            Request r = requests.get(i);
            Path file = imageDir.resolve(r.image());
            BufferedImage img;
            try {
                img = ImageIO.read(file.toFile());
            } catch (IOException e) {
                throw new SegsaException(file + ": cannot read image for the heatmap: " + e.getMessage(), e);
            }
            FrameReader.Frame f = frames.get(i);
            HeatmapImage.write(HeatmapImage.render(img, maps.get(i), f.width(), f.height(), lo, hi, r.title()), outDir.resolve(r.outputName()));
        }
    }
}
