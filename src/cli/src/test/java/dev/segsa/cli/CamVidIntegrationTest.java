package dev.segsa.cli;

import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.model.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real data: fit on a few CamVid training frames and score a few validation frames (480 x 360,
 * 11 classes, label 11 ignored) with a small random convolutional net, then check that the output
 * is complete (a row for every class predicted or labelled in every frame) and finite. Reads the
 * frames from ../shared/data/camvid (system property segsa.camvid); skipped where it is absent.
 */
class CamVidIntegrationTest {
    @TempDir
    Path dir;

    private static Path camvid() {
        Path p = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(p.resolve("train")), "CamVid not found at " + p.toAbsolutePath());
        return p;
    }

    /** Copies (into the test's temporary directory) the first {@code n} frames of {@code split} and their labels into dir/split. */
    private Path[] subset(Path camvid, String split, int n) throws IOException {
        Path images = Files.createDirectories(dir.resolve(split + "/images"));
        Path labels = Files.createDirectories(dir.resolve(split + "/labels"));
        try (Stream<Path> s = Files.list(camvid.resolve(split))) {
            for (Path p : s.sorted().limit(n).toList()) {
                Files.copy(p, images.resolve(p.getFileName()));
                Files.copy(camvid.resolve(split + "annot").resolve(p.getFileName()), labels.resolve(p.getFileName()));
            }
        }
        return new Path[] {images, labels};
    }

    @Test
    void fitAndScoreCamVidFrames() throws IOException {
        Path camvid = camvid();
        Path[] train = subset(camvid, "train", 4);
        Path[] val = subset(camvid, "val", 2);
        Path model = dir.resolve("camvid-random.pt");
        TestModels.saveRandomConvNet(model, 16, 11, 42);
        String names = "Sky,Building,Pole,Road,Pavement,Tree,SignSymbol,Fence,Car,Pedestrian,Bicyclist";
        Path sa = dir.resolve("camvid.sa");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", train[0].toString(), "--labels",
                train[1].toString(), "--out", sa.toString(), "--ignore-label", "11", "--class-names", names,
                "--mean", "0.39,0.41,0.43", "--std", "0.3,0.3,0.3", "--lsa-references", "300", "--seed", "7"));
        Path scores = dir.resolve("scores.csv");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                val[0].toString(), "--labels", val[1].toString(), "--lsa", "--groups", "vehicles=Car,Pedestrian,Bicyclist",
                "--out", scores.toString()));
        List<String> lines = Files.readAllLines(scores);
        SaModel fit = SaModelFile.read(sa);
        List<String> fittedNames = fit.settings().classNames();
        assertEquals("image,class,pixels,mdsa,lsa,iou,row_kind", lines.get(0));
        Set<String> images = new HashSet<>();
        long[] pixelsPerImage = new long[2];
        List<String> frameNames;
        try (Stream<Path> s = Files.list(val[0])) {
            frameNames = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(7, f.length, line);
            assertEquals(f[1].equals("vehicles") ? "group" : "class", f[6], "row_kind: " + line);
            images.add(f[0]);
            long pixels = Long.parseLong(f[2]);
            if (!f[1].equals("vehicles")) pixelsPerImage[frameNames.indexOf(f[0])] += pixels;
            boolean group = f[1].equals("vehicles");
            boolean fitted = group || fit.statistics()[fittedNames.indexOf(f[1])].count() >= 2;
            if (group && pixels > 0 && f[3].isEmpty()) {
                continue; // group SA needs a z-scorable class (>= 2 scored images) in this image
            }
            if (pixels > 0 && fitted) {
                assertTrue(Double.isFinite(Double.parseDouble(f[3])), "mdsa: " + line);
                if (!group) assertTrue(Double.parseDouble(f[3]) >= 0, "class MDSA is a distance: " + line);
                assertTrue(Double.isFinite(Double.parseDouble(f[4])), "lsa: " + line);
            } else {
                // nothing predicted, or a class without training pixels: no SA, never a made-up number
                assertTrue(f[3].isEmpty() && f[4].isEmpty(), line);
            }
            // IoU is empty only when the class is predicted on ignore-labelled pixels alone
            if (!f[5].isEmpty()) {
                double iou = Double.parseDouble(f[5]);
                assertTrue(iou >= 0 && iou <= 1, line);
            } else {
                assertTrue(pixels > 0, line);
            }
        }
        assertEquals(Set.copyOf(frameNames), images);
        // every pixel of every frame is predicted as some class and appears in exactly one class row
        for (long p : pixelsPerImage) assertEquals(480L * 360L, p);
    }
}
