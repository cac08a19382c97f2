package dev.segsa.report;

import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code scores.csv}: columns {@code image,class,pixels,mdsa,lsa,iou}; empty cells for values
 * that are not defined; doubles printed with {@link Double#toString} so they round-trip.
 */
public final class ScoresCsv {
    public static final String HEADER = "image,class,pixels,mdsa,lsa,iou";

    public record Row(String image, String className, long pixels, double mdsa, double lsa, double iou) {}

    private ScoresCsv() {}

    public static void write(Path out, List<Row> rows) {
        AtomicOutput.write(out, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            w.write(HEADER);
            w.write('\n');
            for (Row r : rows) {
                w.write(field(r.image()));
                w.write(',');
                w.write(field(r.className()));
                w.write(',');
                w.write(Long.toString(r.pixels()));
                w.write(',');
                w.write(number(r.mdsa()));
                w.write(',');
                w.write(number(r.lsa()));
                w.write(',');
                w.write(number(r.iou()));
                w.write('\n');
            }
            w.flush();
        });
    }

    static String number(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }

    static String field(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
