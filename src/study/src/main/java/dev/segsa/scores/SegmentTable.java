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

    /** The columns of a file with these classes. */
    public static List<String> columnNames(List<String> classNames) {
        List<String> out = new ArrayList<>(List.of("image", "segment", "class_name"));
        out.addAll(SegmentFeatures.columnNames(RiskModel.HEAT_MAPS, classNames));
        return out;
    }

    /** Each row's segment number within its frame (rows of one frame are consecutive: 0, 1, 2, ...). */
    private int[] segmentNumbers() {
        int[] out = new int[rows.size()];
        for (int i = 1; i < out.length; i++) out[i] = images.get(i).equals(images.get(i - 1)) ? out[i - 1] + 1 : 0;
        return out;
    }

    /** Writes CSV, or Parquet when the name ends with {@code .parquet} (same columns; NaN for empty cells). */
    public void write(Path out) {
        if (out.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".parquet")) {
            writeParquet(out);
            return;
        }
        AtomicOutput.write(out, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            List<String> cols = columnNames(classNames);
            for (int j = 0; j < cols.size(); j++) {
                if (j > 0) w.write(',');
                w.write(ScoresCsv.field(cols.get(j)));
            }
            w.write('\n');
            int[] segment = segmentNumbers();
            for (int i = 0; i < rows.size(); i++) {
                double[] r = rows.get(i);
                w.write(ScoresCsv.field(images.get(i)));
                w.write(',');
                w.write(Integer.toString(segment[i]));
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

    /**
     * Parquet through DuckDB's JDBC driver: the rows go into an in-memory table, which is copied to
     * a scratch file, which is then moved into place atomically (never a half-written output).
     */
    private void writeParquet(Path out) {
        List<String> cols = dev.segsa.segments.SegmentFeatures.columnNames(RiskModel.HEAT_MAPS, classNames);
        Path scratch = null;
        try {
            Class.forName("org.duckdb.DuckDBDriver");
            scratch = Files.createTempFile("segsa-segments-", ".parquet");
            Files.delete(scratch);
            try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:duckdb:");
                 java.sql.Statement st = c.createStatement()) {
                StringBuilder ddl = new StringBuilder("CREATE TABLE s (image VARCHAR, segment INTEGER, class_name VARCHAR");
                for (String col : cols) ddl.append(", \"").append(col.replace("\"", "\"\"")).append("\" DOUBLE");
                st.execute(ddl.append(')').toString());
                try (var app = ((org.duckdb.DuckDBConnection) c).createAppender(org.duckdb.DuckDBConnection.DEFAULT_SCHEMA, "s")) {
                    int[] segment = segmentNumbers();
                    for (int i = 0; i < rows.size(); i++) {
                        double[] r = rows.get(i);
                        app.beginRow();
                        app.append(images.get(i));
                        app.append(segment[i]);
                        app.append(classNames.get((int) r[dev.segsa.segments.SegmentFeatures.CLASS]));
                        for (double v : r) app.append(v);
                        app.endRow();
                    }
                }
                st.execute("COPY s TO '" + scratch.toString().replace("'", "''") + "' (FORMAT PARQUET)");
            }
            Path from = scratch;
            AtomicOutput.write(out, stream -> Files.copy(from, stream));
        } catch (ClassNotFoundException e) {
            throw new SegsaException(out + ": writing Parquet needs DuckDB's JDBC driver (org.duckdb:duckdb_jdbc) on the classpath", e);
        } catch (java.sql.SQLException | IOException e) {
            throw new SegsaException(out + ": cannot write the segments as Parquet: " + e.getMessage().lines().findFirst().orElse(""), e);
        } finally {
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException ignored) {
                    // a scratch file left in the temporary folder
                }
            }
        }
    }

    /** Reads a Parquet file written by {@link #write}. */
    private static SegmentTable readParquet(Path file) {
        try {
            Class.forName("org.duckdb.DuckDBDriver");
        } catch (ClassNotFoundException e) {
            throw new SegsaException(file + ": reading Parquet needs DuckDB's JDBC driver (org.duckdb:duckdb_jdbc) on the classpath", e);
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:duckdb:");
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT * FROM read_parquet('" + file.toString().replace("'", "''") + "')")) {
            var md = rs.getMetaData();
            List<String> h = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) h.add(md.getColumnName(i));
            List<String> classNames = new ArrayList<>();
            for (String col : h) if (col.startsWith("prob_")) classNames.add(col.substring("prob_".length()));
            if (classNames.isEmpty() || !h.equals(columnNames(classNames))) {
                throw new SegsaException(file + ": not a segments file of segsa score --segments (columns " + h + ")");
            }
            int f = dev.segsa.segments.SegmentFeatures.columns(RiskModel.HEAT_MAPS.size(), classNames.size());
            List<String> images = new ArrayList<>();
            List<double[]> rows = new ArrayList<>();
            int row = 0;
            while (rs.next()) {
                row++;
                double[] v = new double[f];
                for (int j = 0; j < f; j++) {
                    v[j] = rs.getDouble(4 + j);
                    if (rs.wasNull()) v[j] = Double.NaN;
                    if (Double.isInfinite(v[j])) throw new SegsaException(file + ": row " + row + ": " + h.get(3 + j) + " is not finite");
                }
                check(v, classNames.size(), f, file, "row " + row);
                images.add(rs.getString(1));
                rows.add(v);
            }
            return new SegmentTable(List.copyOf(classNames), images, rows);
        } catch (java.sql.SQLException e) {
            throw new SegsaException(file + ": cannot read segments: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static void check(double[] v, int classes, int f, Path file, String where) {
        int c = (int) v[dev.segsa.segments.SegmentFeatures.CLASS];
        if (v[dev.segsa.segments.SegmentFeatures.CLASS] != c || c < 0 || c >= classes) {
            throw new SegsaException(file + ": " + where + ": class " + v[dev.segsa.segments.SegmentFeatures.CLASS] + " is not a class id");
        }
        double iou = v[f - 1];
        if (!Double.isNaN(iou) && (iou < 0 || iou > 1)) throw new SegsaException(file + ": " + where + ": iou_adj " + iou + " is outside [0, 1]");
    }

    /** Reads a file written by {@link #write} (CSV or Parquet); the class names come from its probability columns. Errors name the file and line. */
    public static SegmentTable read(Path file) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": segments file not found");
        if (ScoresParquet.isParquet(file)) return readParquet(file);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String head = r.readLine();
            if (head == null) throw new SegsaException(file + ": empty segments file");
            List<String> h = ScoresCsv.parseLine(head, file, 1);
            List<String> classNames = new ArrayList<>();
            for (String c : h) if (c.startsWith("prob_")) classNames.add(c.substring("prob_".length()));
            if (classNames.isEmpty() || !h.equals(columnNames(classNames))) {
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
                check(v, classNames.size(), f, file, "line " + ln);
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
