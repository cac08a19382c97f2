package dev.segsa.scores;

import dev.segsa.error.SegsaException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the scores the Spark job writes (a Parquet dataset: a folder of part files, possibly
 * partitioned by recording, or one .parquet file) through DuckDB's Parquet reader, into the same
 * {@link ScoresCsv.Contents} as a scores.csv: evaluate and select take either. The image of a row
 * is its {@code path} column when there is one (file names repeat across recordings), else its
 * {@code image} column. Rows whose {@code row_kind} is {@code group} are group rows (see
 * {@link ScoresCsv}); datasets without the column are read as class rows. Video rows' integer
 * {@code time_ns}, when the dataset has it, goes to {@link ScoresCsv.Contents#timeNs()}.
 */
public final class ScoresParquet {
    private ScoresParquet() {}

    /** True for what {@link #read} reads: a folder, or a file ending in .parquet. */
    public static boolean isParquet(Path p) {
        return Files.isDirectory(p) || p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".parquet");
    }

    /**
     * SHA-256 over a scores input for reports: of the file, or for a Parquet folder of every file in
     * it (relative path and bytes, in path order).
     */
    public static String sha256(Path p) {
        try {
            return dev.segsa.io.FileDigest.sha256OfTree(p);
        } catch (java.io.IOException e) {
            throw new SegsaException(p + ": cannot hash the scores: " + e.getMessage(), e);
        }
    }

    public static ScoresCsv.Contents read(Path p) {
        if (!Files.exists(p)) throw new SegsaException(p + ": scores not found");
        // DuckDB reads a path with glob characters as a pattern ("scores[1]" would match "scores1"): such a path is
        // read through a link of a plain name in a fresh temporary folder, removed afterwards
        Path literal = p.toAbsolutePath().normalize();
        Path linkDir = null;
        if (hasGlob(literal.toString())) {
            try {
                linkDir = Files.createTempDirectory("segsa-scores-");
                if (hasGlob(linkDir.toString())) {
                    throw new SegsaException(p + ": the path has glob characters and so does the temporary folder " + linkDir
                            + "; move the scores to a path without [ ] * ? { }");
                }
                literal = Files.createSymbolicLink(linkDir.resolve(Files.isDirectory(p) ? "scores" : "scores.parquet"), literal);
            } catch (java.io.IOException | UnsupportedOperationException e) {
                deleteLink(linkDir);
                throw new SegsaException(p + ": the path has glob characters ([ ] * ? { }) and no link of a plain name could be made to "
                        + "read it literally (" + e.getMessage() + "); move or rename it", e);
            }
        }
        try {
            return read(p, literal);
        } finally {
            deleteLink(linkDir);
        }
    }

    /** Whether DuckDB would read a path as a glob pattern. */
    static boolean hasGlob(String path) {
        for (char ch : path.toCharArray()) if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '{' || ch == '}') return true;
        return false;
    }

    private static void deleteLink(Path linkDir) {
        if (linkDir == null) return;
        try (var s = Files.list(linkDir)) {
            for (Path q : s.toList()) Files.deleteIfExists(q); // the link, never what it points to
            Files.deleteIfExists(linkDir);
        } catch (java.io.IOException ignored) {
            // a temporary folder left behind holds only a link
        }
    }

    private static ScoresCsv.Contents read(Path p, Path literal) {
        String source = Files.isDirectory(p) ? literal + "/**/*.parquet" : literal.toString();
        String sql = "SELECT * FROM read_parquet('" + source.replace("'", "''") + "', hive_partitioning = true, union_by_name = true)";
        try {
            Class.forName("org.duckdb.DuckDBDriver");
        } catch (ClassNotFoundException e) {
            throw new SegsaException("reading Parquet scores needs DuckDB's JDBC driver (org.duckdb:duckdb_jdbc) on the classpath", e);
        }
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            Set<String> columns = new HashSet<>();
            for (int i = 1; i <= md.getColumnCount(); i++) columns.add(md.getColumnName(i));
            for (String need : List.of("image", "class", "pixels", "iou")) {
                if (!columns.contains(need)) throw new SegsaException(p + ": Parquet scores have no column '" + need + "' (columns " + columns + ")");
            }
            List<String> scoreColumns = new ArrayList<>();
            for (String s : ScoresCsv.SCORE_COLUMNS) if (columns.contains(s)) scoreColumns.add(s);
            if (scoreColumns.isEmpty()) throw new SegsaException(p + ": no score column (" + String.join(", ", ScoresCsv.SCORE_COLUMNS) + ")");
            boolean[] hasValue = new boolean[ScoresCsv.SCORE_COLUMNS.size()];
            boolean withPath = columns.contains("path");
            boolean videoRows = columns.contains("frame");
            java.util.Map<String, Double> pts = new java.util.HashMap<>();
            java.util.Map<String, Long> timeNs = new java.util.HashMap<>();
            boolean withKind = columns.contains(ScoresCsv.ROW_KIND_COLUMN); // absent in datasets written before it
            int unc = ScoresCsv.UNCERTAINTY_COLUMNS.size();
            List<ScoresCsv.Row> rows = new ArrayList<>();
            long row = 0;
            String[] column = {""};
            while (rs.next()) {
                row++;
                try {
                column[0] = withPath ? "path" : "image";
                String image = withPath ? rs.getString("path") : rs.getString("image");
                if (videoRows && image != null) {
                    // a video frame: keyed <video>#<frame> like the CLI's video scores, so frames rank, not whole files
                    column[0] = "frame";
                    int frame = rs.getInt("frame");
                    if (!rs.wasNull() && frame >= 0) {
                        image = ScoresCsv.videoFrameName(image, frame);
                        if (columns.contains("pts")) {
                            column[0] = "pts";
                            double t = rs.getDouble("pts");
                            if (!rs.wasNull() && Double.isFinite(t)) pts.putIfAbsent(image, t);
                        }
                        if (columns.contains(ScoresCsv.TIME_NS_COLUMN)) {
                            column[0] = ScoresCsv.TIME_NS_COLUMN;
                            long t = rs.getLong(ScoresCsv.TIME_NS_COLUMN);
                            if (!rs.wasNull()) timeNs.putIfAbsent(image, t);
                        }
                    }
                }
                String cls = rs.getString("class");
                if (image == null || cls == null) throw new SegsaException(p + ": a row without image or class");
                double mdsa = value(rs, columns, "mdsa", column), lsa = value(rs, columns, "lsa", column);
                double[] u = null;
                if (columns.contains(ScoresCsv.UNCERTAINTY_COLUMNS.get(0))) {
                    u = new double[unc];
                    for (int i = 0; i < unc; i++) u[i] = value(rs, columns, ScoresCsv.UNCERTAINTY_COLUMNS.get(i), column);
                }
                double[] all = new double[ScoresCsv.SCORE_COLUMNS.size()];
                all[0] = mdsa;
                all[1] = lsa;
                for (int i = 0; i < unc; i++) all[2 + i] = u == null ? Double.NaN : u[i];
                for (int i = 0; i < all.length; i++) hasValue[i] |= !Double.isNaN(all[i]);
                column[0] = "pixels";
                long pixels = rs.getLong("pixels");
                if (rs.wasNull() || pixels < 0) throw new SegsaException("is " + (rs.wasNull() ? "empty" : pixels));
                boolean group = false;
                if (withKind) {
                    column[0] = ScoresCsv.ROW_KIND_COLUMN;
                    String kind = rs.getString(ScoresCsv.ROW_KIND_COLUMN);
                    group = ScoresCsv.ROW_KIND_GROUP.equals(kind);
                    if (!group && kind != null && !kind.isEmpty() && !kind.equals(ScoresCsv.ROW_KIND_CLASS)) {
                        throw new SegsaException("'" + kind + "' is neither " + ScoresCsv.ROW_KIND_CLASS + " nor " + ScoresCsv.ROW_KIND_GROUP);
                    }
                }
                rows.add(new ScoresCsv.Row(image, cls, pixels, mdsa, lsa, value(rs, columns, "iou", column), u,
                        value(rs, columns, ScoresCsv.CLASS_PERCENTILE_COLUMN, column), value(rs, columns, ScoresCsv.RISK, column), group));
                } catch (SQLException | RuntimeException e) {
                    // one line: the file, the row and the column (bad typed values, non-finite scores)
                    throw new SegsaException(p + ": row " + row + ", column " + column[0] + ": " + firstLine(e.getMessage()), e);
                }
            }
            if (rows.isEmpty()) throw new SegsaException(p + ": Parquet scores have no rows");
            List<String> present = new ArrayList<>();
            for (int i = 0; i < hasValue.length; i++) if (hasValue[i]) present.add(ScoresCsv.SCORE_COLUMNS.get(i));
            if (present.isEmpty()) throw new SegsaException(p + ": every score is NaN");
            return new ScoresCsv.Contents(p, rows, present, java.util.Map.copyOf(pts), java.util.Map.copyOf(timeNs));
        } catch (SQLException e) {
            throw new SegsaException(p + ": cannot read Parquet scores: " + firstLine(e.getMessage()), e);
        }
    }

    private static double value(ResultSet rs, Set<String> columns, String name, String[] column) throws SQLException {
        if (!columns.contains(name)) return Double.NaN;
        column[0] = name;
        double v = rs.getDouble(name);
        if (rs.wasNull()) return Double.NaN;
        // NaN stands for no score (Spark writes it so); an infinity is a corrupt value
        if (Double.isInfinite(v)) throw new SegsaException("value " + v + " is not finite");
        return v;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
