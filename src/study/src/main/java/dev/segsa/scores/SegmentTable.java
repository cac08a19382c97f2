package dev.segsa.scores;

import dev.segsa.error.SegsaException;
import dev.segsa.io.AtomicOutput;
import dev.segsa.risk.RiskModel;
import dev.segsa.segments.SegmentFeatures;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-segment rows ({@code segsa score --segments FILE}): columns {@code image,segment,class_name}
 * then the {@link SegmentFeatures} columns with the heat maps {@link RiskModel#HEAT_MAPS} (class id,
 * sizes, position, per heat map the means over segment / interior / boundary and their relative
 * versions, the mean probability of every class, and {@code iou_adj} when scored with labels).
 * Doubles printed so that they round-trip; empty cells for NaN.
 *
 * @param classNames the classes, in id order
 * @param images     per row its frame
 * @param rows       per row its feature values ({@link SegmentFeatures#columns}) in column order
 */
public record SegmentTable(List<String> classNames, List<String> images, List<double[]> rows) {

    public int columns() {
        return SegmentFeatures.columns(RiskModel.HEAT_MAPS.size(), classNames.size());
    }

    /** The header of a file with these classes. */
    public static String header(List<String> classNames) {
        return "image,segment,class_name," + String.join(",", SegmentFeatures.columnNames(RiskModel.HEAT_MAPS, classNames));
    }

    public void write(Path out) {
        AtomicOutput.write(out, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            w.write(header(classNames));
            w.write('\n');
            String last = null;
            int segment = 0;
            for (int i = 0; i < rows.size(); i++) {
                String image = images.get(i);
                segment = image.equals(last) ? segment + 1 : 0;
                last = image;
                double[] r = rows.get(i);
                w.write(ScoresCsv.field(image));
                w.write(',');
                w.write(Integer.toString(segment));
                w.write(',');
                w.write(ScoresCsv.field(classNames.get((int) r[SegmentFeatures.CLASS])));
                for (double v : r) {
                    w.write(',');
                    w.write(v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : ScoresCsv.number(v));
                }
                w.write('\n');
            }
            w.flush();
        });
    }

    /** Reads a file written by {@link #write}; the class names come from its probability columns. Errors name the file and line. */
    public static SegmentTable read(Path file) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": segments file not found");
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String head = r.readLine();
            if (head == null) throw new SegsaException(file + ": empty segments file");
            List<String> h = ScoresCsv.parseLine(head, file, 1);
            List<String> classNames = new ArrayList<>();
            for (String c : h) if (c.startsWith("prob_")) classNames.add(c.substring("prob_".length()));
            if (classNames.isEmpty() || !String.join(",", h).equals(header(classNames))) {
                throw new SegsaException(file + ": not a segments file of segsa score --segments (header " + head + ")");
            }
            int f = SegmentFeatures.columns(RiskModel.HEAT_MAPS.size(), classNames.size());
            List<String> images = new ArrayList<>();
            List<double[]> rows = new ArrayList<>();
            String previous = null;
            int ln = 1;
            for (String line; (line = r.readLine()) != null; ) {
                ln++;
                if (line.isEmpty()) continue;
                List<String> x = ScoresCsv.parseLine(line, file, ln);
                if (x.size() != h.size()) throw new SegsaException(file + ": line " + ln + " has " + x.size() + " fields, the header " + h.size());
                double[] v = new double[f];
                for (int j = 0; j < f; j++) {
                    String s = x.get(3 + j);
                    try {
                        v[j] = s.isEmpty() ? Double.NaN : Double.parseDouble(s);
                    } catch (NumberFormatException e) {
                        throw new SegsaException(file + ": line " + ln + ": " + h.get(3 + j) + " '" + s + "' is not a number");
                    }
                    if (Double.isInfinite(v[j])) throw new SegsaException(file + ": line " + ln + ": " + h.get(3 + j) + " is not finite");
                }
                int c = (int) v[SegmentFeatures.CLASS];
                if (v[SegmentFeatures.CLASS] != c || c < 0 || c >= classNames.size()) {
                    throw new SegsaException(file + ": line " + ln + ": class " + x.get(3) + " is not a class id");
                }
                double iou = v[f - 1];
                if (!Double.isNaN(iou) && (iou < 0 || iou > 1)) throw new SegsaException(file + ": line " + ln + ": iou_adj " + iou + " is outside [0, 1]");
                String image = x.get(0);
                if (image.equals(previous)) image = previous;
                previous = image;
                images.add(image);
                rows.add(v);
            }
            return new SegmentTable(List.copyOf(classNames), images, rows);
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read segments: " + e.getMessage(), e);
        }
    }
}
