package dev.segsa.scores;

import dev.segsa.error.SegsaException;
import dev.segsa.risk.RiskModel;
import dev.segsa.segments.SegmentFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Segment rows written and read back exactly, as CSV and as Parquet; bad files refused naming the file. */
class SegmentTableTest {
    @TempDir
    Path dir;

    static SegmentTable sample() {
        List<String> classes = List.of("Road", "Car, with a comma", "Person");
        int f = SegmentFeatures.columns(RiskModel.HEAT_MAPS.size(), classes.size());
        SplittableRandom r = new SplittableRandom(4);
        List<String> images = new ArrayList<>();
        List<double[]> rows = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            double[] v = new double[f];
            for (int j = 0; j < f; j++) v[j] = r.nextGaussian() * 10;
            v[SegmentFeatures.CLASS] = r.nextInt(classes.size());
            v[SegmentFeatures.SIZE] = 1 + r.nextInt(1000);
            v[f - 1] = i % 5 == 0 ? Double.NaN : r.nextDouble();
            images.add("rec_" + (i / 7) + ".png");
            rows.add(v);
        }
        return new SegmentTable(classes, images, rows);
    }

    @Test
    void roundTripsAsCsvAndAsParquet() {
        SegmentTable t = sample();
        for (String name : List.of("s.csv", "s.parquet")) {
            Path p = dir.resolve(name);
            t.write(p);
            SegmentTable back = SegmentTable.read(p);
            assertEquals(t.classNames(), back.classNames(), name);
            assertEquals(t.images(), back.images(), name);
            assertEquals(t.rows().size(), back.rows().size(), name);
            for (int i = 0; i < t.rows().size(); i++) assertArrayEquals(t.rows().get(i), back.rows().get(i), 0, name + " row " + i);
        }
    }

    @Test
    void badFilesAreRefusedNamingTheFile() throws Exception {
        Path p = dir.resolve("bad.csv");
        Files.writeString(p, "image,class,pixels\nx,1,2\n");
        SegsaException e = assertThrows(SegsaException.class, () -> SegmentTable.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        SegmentTable t = sample();
        Path good = dir.resolve("good.csv");
        t.write(good);
        List<String> lines = new ArrayList<>(Files.readAllLines(good));
        String[] cells = lines.get(1).split(",", -1);
        cells[cells.length - 1] = "1.5"; // iou_adj outside [0, 1]
        lines.set(1, String.join(",", cells));
        Path out = dir.resolve("iou.csv");
        Files.write(out, lines);
        e = assertThrows(SegsaException.class, () -> SegmentTable.read(out));
        assertTrue(e.getMessage().contains("iou_adj"), e.getMessage());
        assertThrows(SegsaException.class, () -> SegmentTable.read(dir.resolve("missing.parquet")));
    }
}
