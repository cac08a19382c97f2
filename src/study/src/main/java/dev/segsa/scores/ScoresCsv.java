package dev.segsa.scores;

import dev.segsa.io.AtomicOutput;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code scores.csv}: columns {@code image,class,pixels,mdsa,lsa,iou}, and with
 * {@code segsa score --uncertainty} the softmax uncertainty baselines
 * {@code entropy,margin,least_confidence,deepgini} after {@code iou} (every one oriented so that
 * higher = more uncertain; see {@link dev.segsa.model.FrameOutput.SoftmaxUncertainty}). Empty
 * cells for values that are not defined; doubles printed with {@link Double#toString} so they
 * round-trip. When the SA file has a class reference, a column {@value #CLASS_PERCENTILE_COLUMN}
 * holds each class row's percentile of its class MDSA among the fit frames (empty where the class
 * covers too little of the frame, and on group rows): its highest value over a frame's rows is the
 * class-aware frame score ({@link Contents#frameScores(String, java.util.Set)} with
 * {@value #CLASS_AWARE}).
 *
 * <p>The last column, {@value #ROW_KIND_COLUMN}, says what a row is: {@value #ROW_KIND_CLASS} (one
 * class of the frame) or {@value #ROW_KIND_GROUP} (a class group of {@code segsa score --groups}: its
 * scores are class scores z-scored and averaged, so they must never be pooled with class rows). Every
 * reader that aggregates a frame's class rows leaves out the rows marked {@value #ROW_KIND_GROUP},
 * with or without {@code --groups}; files written before the column existed are read as all class
 * rows (their group rows are found only by the names given with {@code --groups}).
 *
 * <p>Scores of video frames and MCAP logs have {@value #VIDEO_COLUMNS} in place of {@code image}:
 * {@code pts} is the frame's time in seconds written as a plain decimal with nine decimals (never in
 * E-notation), and {@value #TIME_NS_COLUMN} the same time as an integer count of nanoseconds, the key
 * to join the rows with the log (see {@link VideoFrameRef}).
 */
public final class ScoresCsv {
    public static final String HEADER = "image,class,pixels,mdsa,lsa,iou";
    /** The uncertainty columns, in file order; the same names as FrameOutput.SoftmaxUncertainty.NAMES. */
    public static final List<String> UNCERTAINTY_COLUMNS = List.of("entropy", "margin", "least_confidence", "deepgini");
    public static final String HEADER_WITH_UNCERTAINTY = HEADER + "," + String.join(",", UNCERTAINTY_COLUMNS);
    /** The per-row class percentile column (see the class comment). */
    public static final String CLASS_PERCENTILE_COLUMN = "mdsa_pct";
    /** The frame score that is the highest class percentile of the frame's rows. */
    public static final String CLASS_AWARE = "class_aware";
    /** The per-row risk column: one minus the class's predicted IoU (segsa score --risk); its frame score is the mean over class rows. */
    public static final String RISK = "risk";
    /** The last column: {@value #ROW_KIND_CLASS} or {@value #ROW_KIND_GROUP} (see the class comment). */
    public static final String ROW_KIND_COLUMN = "row_kind";
    public static final String ROW_KIND_CLASS = "class";
    public static final String ROW_KIND_GROUP = "group";
    /** The integer time of a video or MCAP frame in nanoseconds (see {@link VideoFrameRef}). */
    public static final String TIME_NS_COLUMN = "time_ns";

    /**
     * One row: an image and a class, or a class group ({@code group}: the row is marked
     * {@value #ROW_KIND_GROUP} in the file). {@code uncertainty} holds the values of
     * {@link #UNCERTAINTY_COLUMNS} in that order (NaN = empty), or is null when they were not computed.
     */
    public record Row(String image, String className, long pixels, double mdsa, double lsa, double iou, double[] uncertainty,
                      double mdsaPct, double risk, boolean group) {
        /** A class row. */
        public Row(String image, String className, long pixels, double mdsa, double lsa, double iou, double[] uncertainty,
                   double mdsaPct, double risk) {
            this(image, className, pixels, mdsa, lsa, iou, uncertainty, mdsaPct, risk, false);
        }

        public Row(String image, String className, long pixels, double mdsa, double lsa, double iou, double[] uncertainty,
                   double mdsaPct) {
            this(image, className, pixels, mdsa, lsa, iou, uncertainty, mdsaPct, Double.NaN);
        }

        public Row(String image, String className, long pixels, double mdsa, double lsa, double iou) {
            this(image, className, pixels, mdsa, lsa, iou, null);
        }

        public Row(String image, String className, long pixels, double mdsa, double lsa, double iou, double[] uncertainty) {
            this(image, className, pixels, mdsa, lsa, iou, uncertainty, Double.NaN);
        }

        /** The value of a score column ({@code mdsa}, {@code lsa} or an uncertainty column); NaN when empty or absent. */
        public double score(String column) {
            return switch (column) {
                case "mdsa" -> mdsa;
                case "lsa" -> lsa;
                default -> {
                    int i = UNCERTAINTY_COLUMNS.indexOf(column);
                    if (i < 0) throw new IllegalArgumentException("unknown score column '" + column + "'");
                    yield uncertainty == null ? Double.NaN : uncertainty[i];
                }
            };
        }
    }

    /**
     * A scores file read back: its rows (in file order) and its score columns that hold at least
     * one value, in the order mdsa, lsa, then the uncertainty columns.
     */
    public record Contents(Path file, List<Row> rows, List<String> scoreColumns, java.util.Map<String, Double> ptsSeconds,
                           java.util.Map<String, Long> timeNs) {
        public Contents(Path file, List<Row> rows, List<String> scoreColumns) {
            this(file, rows, scoreColumns, java.util.Map.of());
        }

        public Contents(Path file, List<Row> rows, List<String> scoreColumns, java.util.Map<String, Double> ptsSeconds) {
            this(file, rows, scoreColumns, ptsSeconds, java.util.Map.of());
        }

        /**
         * Whether a row is a group row: marked {@value #ROW_KIND_GROUP} in the file, or (files older than
         * the {@value #ROW_KIND_COLUMN} column) named in {@code groupNames}.
         */
        public static boolean isGroup(Row r, java.util.Set<String> groupNames) {
            return r.group() || groupNames.contains(r.className());
        }

        /** The names of the rows the file marks {@value #ROW_KIND_GROUP}, in file order (empty for older files). */
        public java.util.Set<String> markedGroups() {
            java.util.Set<String> out = new java.util.LinkedHashSet<>();
            for (Row r : rows) if (r.group()) out.add(r.className());
            return out;
        }

        /** {@code given} (the names of --groups) and the names of the rows the file marks as groups. */
        public java.util.Set<String> groupNames(java.util.Set<String> given) {
            java.util.Set<String> out = new java.util.LinkedHashSet<>(given);
            out.addAll(markedGroups());
            return out;
        }

        /** A frame's score and its predicted pixels over its class rows. */
        public record FrameScore(double score, long pixels) {}

        /**
         * Per frame, in file order: the pixel-weighted mean of {@code column} over its class rows
         * (group rows left out: those the file marks, and those named in {@code groupNames}; NaN when
         * no row has a value) and the
         * pixels of those rows: the frame-level score of timeline, select and the report's heatmaps.
         */
        public java.util.Map<String, FrameScore> frameScores(String column, java.util.Set<String> groupNames) {
            if (column.equals(CLASS_AWARE)) return aggregate(groupNames, Row::mdsaPct, Combine.MAX);
            if (column.equals(RISK)) return aggregate(groupNames, Row::risk, Combine.MEAN);
            return aggregate(groupNames, r -> r.score(column), Combine.PIXEL_WEIGHTED_MEAN);
        }

        /** How a frame's class rows make its score. */
        private enum Combine { PIXEL_WEIGHTED_MEAN, MEAN, MAX }

        /**
         * Per frame, in file order: its class rows' finite values combined (NaN when none has one)
         * and the pixels of those rows; group rows (marked, or named in {@code groupNames}) left out.
         */
        private java.util.Map<String, FrameScore> aggregate(java.util.Set<String> groupNames, java.util.function.ToDoubleFunction<Row> value,
                                                            Combine how) {
            java.util.Map<String, double[]> acc = new java.util.LinkedHashMap<>(); // {sum or max, weight, pixels}
            for (Row r : rows) {
                if (isGroup(r, groupNames)) continue;
                double[] a = acc.computeIfAbsent(r.image(), k -> new double[3]);
                a[2] += r.pixels();
                double v = value.applyAsDouble(r);
                if (!Double.isFinite(v)) continue;
                switch (how) {
                    case PIXEL_WEIGHTED_MEAN -> {
                        a[0] += v * r.pixels();
                        a[1] += r.pixels();
                    }
                    case MEAN -> {
                        a[0] += v;
                        a[1]++;
                    }
                    case MAX -> {
                        a[0] = a[1] == 0 ? v : Math.max(a[0], v);
                        a[1] = 1;
                    }
                }
            }
            java.util.Map<String, FrameScore> out = new java.util.LinkedHashMap<>();
            acc.forEach((image, a) -> out.put(image, new FrameScore(a[1] == 0 ? Double.NaN : how == Combine.MAX ? a[0] : a[0] / a[1],
                    (long) a[2])));
            return out;
        }

        /** Whether the file carries risk (scored with a risk model). */
        public boolean hasRisk() {
            for (Row r : rows) if (Double.isFinite(r.risk())) return true;
            return false;
        }

        /** Whether the file carries class percentiles (the SA file had a class reference). */
        public boolean hasClassPercentiles() {
            for (Row r : rows) if (Double.isFinite(r.mdsaPct())) return true;
            return false;
        }

        /**
         * The frame scores offered by this file, best first for finding the frames the model gets
         * wrong: risk when the file has it, the class-aware score when it has class percentiles, then
         * the pixel-weighted means of its score columns.
         */
        public List<String> frameScoreNames() {
            List<String> out = new ArrayList<>();
            if (hasRisk()) out.add(RISK);
            if (hasClassPercentiles()) out.add(CLASS_AWARE);
            out.addAll(scoreColumns);
            return out;
        }

        /** The default frame ranking: the first of {@link #frameScoreNames()}. */
        public String defaultFrameScore() {
            return frameScoreNames().get(0);
        }

        /**
         * Refuses a frame with two rows for one class (two recordings with one file name, or two runs
         * concatenated), naming the first: the one check of every command that keys rows by frame.
         */
        public void requireUniqueKeys() {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Row r : rows) {
                if (!seen.add(r.image() + "\u0000" + r.className())) {
                    throw new SegsaException(file + ": frame " + r.image() + " has two rows for class " + r.className()
                            + " (two recordings with the same file name, or two runs in one file?): give each recording its own "
                            + "scores file or a unique name; nothing written");
                }
            }
        }
    }

    /** Every column that can carry a score, in canonical order. */
    public static final List<String> SCORE_COLUMNS;

    static {
        List<String> s = new ArrayList<>(List.of("mdsa", "lsa"));
        s.addAll(UNCERTAINTY_COLUMNS);
        SCORE_COLUMNS = List.copyOf(s);
    }

    private ScoresCsv() {}

    /**
     * The first columns of a video's scores: the video file, the frame's index in the stream, its time
     * in seconds ({@code pts}, a plain decimal) and the same time in integer nanoseconds
     * ({@value #TIME_NS_COLUMN}).
     */
    public static final String VIDEO_COLUMNS = "video,frame,pts," + TIME_NS_COLUMN;

    /** {@link VideoFrameRef#timeNs} when the integer time is not known: {@code time_ns} is written empty. */
    public static final long NO_TIME = Long.MIN_VALUE;

    /**
     * Where a row's frame sits in a video: its row's image is {@link #videoFrameName}. {@code timeNs}
     * is the frame's time in integer nanoseconds ({@link #NO_TIME} when unknown): for a video the
     * presentation time ({@code ptsMicros * 1000}), for an MCAP log the message's log time as the log
     * stores it (nanoseconds since the Unix epoch by convention). {@code ptsSeconds} is the same time
     * in seconds; when {@code timeNs} is known, {@code pts} is written from it exactly
     * ({@code 1700000000.000000100}).
     */
    public record VideoFrameRef(String video, int frame, double ptsSeconds, long timeNs) {
        public VideoFrameRef(String video, int frame, double ptsSeconds) {
            this(video, frame, ptsSeconds, NO_TIME);
        }
    }

    /**
     * A time in seconds as a plain decimal, never in E-notation: {@code timeNs / 1e9} with nine
     * decimals when the integer time is known, else {@code seconds} (its shortest decimal form) with
     * nine decimals, rounded half even; empty when neither is known.
     */
    public static String plainSeconds(double seconds, long timeNs) {
        if (timeNs != NO_TIME) return java.math.BigDecimal.valueOf(timeNs, 9).toPlainString();
        if (!Double.isFinite(seconds)) return "";
        return java.math.BigDecimal.valueOf(seconds).setScale(9, java.math.RoundingMode.HALF_EVEN).toPlainString();
    }

    /** The image key of a video frame in rows and messages: {@code <video>#<frame>}. */
    public static String videoFrameName(String video, int frame) {
        return video + "#" + frame;
    }

    /**
     * Writes scores of video frames: the {@code image} column is replaced by {@value #VIDEO_COLUMNS}
     * (video file name, frame index in the stream, time in seconds as a plain decimal, time in integer
     * nanoseconds: see {@link VideoFrameRef}); the rest as
     * {@link #write(Path, List, boolean)}.
     *
     * @param frames the video position of every row's image
     */
    public static void writeVideo(Path out, List<Row> rows, boolean withUncertainty, java.util.Map<String, VideoFrameRef> frames) {
        write(out, rows, withUncertainty, frames);
    }

    /** Writes the six base columns only. */
    public static void write(Path out, List<Row> rows) {
        write(out, rows, false);
    }

    /** @param withUncertainty append the uncertainty columns (rows without them get empty cells) */
    public static void write(Path out, List<Row> rows, boolean withUncertainty) {
        write(out, rows, withUncertainty, null);
    }

    private static void write(Path out, List<Row> rows, boolean withUncertainty, java.util.Map<String, VideoFrameRef> frames) {
        AtomicOutput.write(out, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            String header = withUncertainty ? HEADER_WITH_UNCERTAINTY : HEADER;
            boolean withPct = false;
            for (Row r : rows) withPct |= Double.isFinite(r.mdsaPct());
            if (withPct) header += "," + CLASS_PERCENTILE_COLUMN;
            boolean withRisk = false;
            for (Row r : rows) withRisk |= Double.isFinite(r.risk());
            if (withRisk) header += "," + RISK;
            header += "," + ROW_KIND_COLUMN;
            w.write(frames == null ? header : VIDEO_COLUMNS + header.substring("image".length()));
            w.write('\n');
            for (Row r : rows) {
                if (frames == null) {
                    w.write(field(r.image()));
                } else {
                    VideoFrameRef v = frames.get(r.image());
                    if (v == null) throw new IOException("row of '" + r.image() + "' has no video position");
                    w.write(field(v.video()));
                    w.write(',');
                    w.write(Integer.toString(v.frame()));
                    w.write(',');
                    w.write(plainSeconds(v.ptsSeconds(), v.timeNs()));
                    w.write(',');
                    if (v.timeNs() != NO_TIME) w.write(Long.toString(v.timeNs()));
                }
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
                if (withUncertainty) {
                    for (int i = 0; i < UNCERTAINTY_COLUMNS.size(); i++) {
                        w.write(',');
                        w.write(r.uncertainty() == null ? "" : number(r.uncertainty()[i]));
                    }
                }
                if (withPct) {
                    w.write(',');
                    w.write(number(r.mdsaPct()));
                }
                if (withRisk) {
                    w.write(',');
                    w.write(number(r.risk()));
                }
                w.write(',');
                w.write(r.group() ? ROW_KIND_GROUP : ROW_KIND_CLASS);
                w.write('\n');
            }
            w.flush();
        });
    }

    /**
     * Heap a read row takes, in bytes, for the memory bound of {@link #read}: the row (about 64),
     * its uncertainty array (48), its share of the frame's name and the list slot, rounded up.
     */
    public static final long BYTES_PER_ROW = 200;

    /**
     * Reads a scores file written by {@code segsa score}. Columns are found by header name;
     * {@code image}, {@code class}, {@code pixels}, {@code iou} and at least one score column are
     * required; other columns are ignored. Errors name the file, line and problem.
     *
     * <p>The file is read as a stream (never whole into memory), but its rows are kept: before
     * reading, the row count is estimated from the file's size and its first lines, and a file
     * whose rows would need more than 80% of the heap the JVM can still take (at
     * {@link #BYTES_PER_ROW} a row) is refused with the numbers and the remedy, instead of ending
     * in an OutOfMemoryError: about 25 million rows per 6 GB of heap.
     */
    public static Contents read(Path file) {
        if (ScoresParquet.isParquet(file)) return ScoresParquet.read(file); // the Spark job's output
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": scores file not found");
        try (java.io.InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(1 << 20);
            byte[] head = raw.readNBytes(1 << 20);
            raw.reset();
            for (int i = 0; i < Math.min(head.length, 1 << 16); i++) {
                if (head[i] == 0) throw new SegsaException(file + ": not a text CSV (a NUL byte at offset " + i + ")");
            }
            requireHeapFor(file, Files.size(file), head);
            java.io.BufferedReader reader = new java.io.BufferedReader(new java.io.InputStreamReader(raw,
                    StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)), 1 << 16);
            return read(file, reader);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new SegsaException(file + ": not a UTF-8 text CSV (invalid UTF-8 bytes)", e);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new SegsaException(file + ": cannot read scores: " + e.getMessage(), e);
        }
    }

    /** Refuses a file whose rows would not fit in the heap (see {@link #read}). */
    static void requireHeapFor(Path file, long size, byte[] head) {
        int newlines = 0;
        for (byte b : head) if (b == '\n') newlines++;
        if (newlines < 2 || size <= head.length) return;
        long rows = (long) ((double) size * newlines / head.length);
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long need = rows * BYTES_PER_ROW;
        if (need > 0.8 * available) {
            throw new SegsaException(String.format(java.util.Locale.ROOT, "%s: about %,d rows (%,d MB of text) would need about %,d MB of heap "
                    + "and this JVM can take %,d MB more; give it more (SEGSA_JAVA_OPTS=-Xmx%dg bin/segsa ...) or write the scores "
                    + "as Parquet partitions (segsa-spark) and read a part of them", file, rows, size >> 20, need >> 20, available >> 20,
                    Math.max(2, (long) Math.ceil(need / 0.8 / (1L << 30)) + 1)));
        }
    }

    private static Contents read(Path file, java.io.BufferedReader reader) throws IOException {
        String first = reader.readLine();
        if (first != null && first.startsWith("\uFEFF")) first = first.substring(1); // a UTF-8 byte-order mark
        if (first == null || first.isBlank()) throw new SegsaException(file + ": empty file, expected a header " + HEADER);
        String headerLine = first;
        List<String> header = parseLine(headerLine, file, 1);
        int image = header.indexOf("image"), cls = header.indexOf("class"), pixels = header.indexOf("pixels"),
                iou = header.indexOf("iou");
        // a video's scores: image = <video>#<frame>
        int video = header.indexOf("video"), frame = header.indexOf("frame");
        boolean videoRows = image < 0 && video >= 0 && frame >= 0;
        int ptsColumn = header.indexOf("pts");
        int timeNsColumn = header.indexOf(TIME_NS_COLUMN);
        int kindColumn = header.indexOf(ROW_KIND_COLUMN); // absent in files written before it
        java.util.Map<String, Double> pts = new java.util.HashMap<>();
        java.util.Map<String, Long> timeNs = new java.util.HashMap<>();
        if ((image < 0 && !videoRows) || cls < 0 || pixels < 0 || iou < 0) {
            throw new SegsaException(file + ": header must have the columns image (or video,frame),class,pixels,iou and scores "
                    + "(as written by segsa score), got: " + headerLine);
        }
        int[] scoreIndex = new int[SCORE_COLUMNS.size()];
        boolean anyScore = false;
        for (int s = 0; s < scoreIndex.length; s++) {
            scoreIndex[s] = header.indexOf(SCORE_COLUMNS.get(s));
            anyScore |= scoreIndex[s] >= 0;
        }
        if (!anyScore) throw new SegsaException(file + ": no score column (" + String.join(", ", SCORE_COLUMNS) + ") in the header: " + headerLine);
        int pctIndex = header.indexOf(CLASS_PERCENTILE_COLUMN);
        int riskIndex = header.indexOf(RISK);
        boolean[] hasValue = new boolean[scoreIndex.length];
        List<Row> rows = new ArrayList<>();
        java.util.Map<String, String> classNames = new java.util.HashMap<>();
        String previousKey = null;
        int ln = 0;
        for (String line; (line = reader.readLine()) != null; ) {
            ln++;
            if (line.isEmpty()) continue;
            List<String> f = parseLine(line, file, ln + 1);
            if (f.size() != header.size()) {
                throw new SegsaException(file + ": line " + (ln + 1) + " has " + f.size() + " fields, the header has " + header.size());
            }
            long px;
            try {
                px = Long.parseLong(f.get(pixels));
            } catch (NumberFormatException e) {
                throw new SegsaException(file + ": line " + (ln + 1) + ": pixels '" + f.get(pixels) + "' is not an integer");
            }
            double[] scores = new double[scoreIndex.length];
            for (int s = 0; s < scoreIndex.length; s++) {
                scores[s] = scoreIndex[s] < 0 ? Double.NaN : parseNumber(f.get(scoreIndex[s]), file, ln + 1, SCORE_COLUMNS.get(s));
                hasValue[s] |= !Double.isNaN(scores[s]);
            }
            double iouValue = parseNumber(f.get(iou), file, ln + 1, "iou");
            if (!Double.isNaN(iouValue) && (iouValue < 0 || iouValue > 1)) {
                throw new SegsaException(file + ": line " + (ln + 1) + ": iou " + iouValue + " is outside [0, 1]");
            }
            String key = videoRows ? videoFrameName(f.get(video), parseFrame(f.get(frame), file, ln + 1)) : f.get(image);
            if (videoRows && ptsColumn >= 0) {
                double t = parseNumber(f.get(ptsColumn), file, ln + 1, "pts");
                if (!Double.isNaN(t)) pts.putIfAbsent(key, t);
            }
            if (videoRows && timeNsColumn >= 0 && !f.get(timeNsColumn).isEmpty()) {
                timeNs.putIfAbsent(key, parseTimeNs(f.get(timeNsColumn), file, ln + 1));
            }
            if (key.equals(previousKey)) key = previousKey; // one String per frame, not per row
            previousKey = key;
            String className = classNames.computeIfAbsent(f.get(cls), c -> c);
            double pct = pctIndex < 0 ? Double.NaN : parseNumber(f.get(pctIndex), file, ln + 1, CLASS_PERCENTILE_COLUMN);
            double risk = riskIndex < 0 ? Double.NaN : parseNumber(f.get(riskIndex), file, ln + 1, RISK);
            boolean group = kindColumn >= 0 && parseRowKind(f.get(kindColumn), file, ln + 1);
            rows.add(new Row(key, className, px, scores[0], scores[1], iouValue,
                    Arrays.copyOfRange(scores, 2, scores.length), pct, risk, group));
        }
        List<String> present = new ArrayList<>();
        for (int s = 0; s < hasValue.length; s++) if (hasValue[s]) present.add(SCORE_COLUMNS.get(s));
        return new Contents(file, rows, List.copyOf(present), java.util.Map.copyOf(pts), java.util.Map.copyOf(timeNs));
    }

    /** A {@value #ROW_KIND_COLUMN} cell: true for a group row; empty reads as a class row. */
    static boolean parseRowKind(String s, Path file, int line) {
        if (s.isEmpty() || s.equals(ROW_KIND_CLASS)) return false;
        if (s.equals(ROW_KIND_GROUP)) return true;
        throw new SegsaException(file + ": line " + line + ": " + ROW_KIND_COLUMN + " '" + s + "' is neither " + ROW_KIND_CLASS + " nor "
                + ROW_KIND_GROUP);
    }

    private static long parseTimeNs(String s, Path file, int line) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new SegsaException(file + ": line " + line + ": " + TIME_NS_COLUMN + " '" + s + "' is not an integer (nanoseconds)");
        }
    }

    private static int parseFrame(String s, Path file, int line) {
        try {
            int v = Integer.parseInt(s);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new SegsaException(file + ": line " + line + ": frame '" + s + "' is not a frame index");
        }
    }

    private static double parseNumber(String s, Path file, int line, String column) {
        if (s.isEmpty()) return Double.NaN;
        double v;
        try {
            v = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new SegsaException(file + ": line " + line + ": " + column + " '" + s + "' is not a number");
        }
        if (!Double.isFinite(v)) throw new SegsaException(file + ": line " + line + ": " + column + " '" + s + "' is not finite");
        return v;
    }

    /** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
    public static List<String> parseLine(String line, Path file, int lineNumber) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(ch);
                }
            } else if (ch == '"' && cur.isEmpty()) {
                quoted = true;
            } else if (ch == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        if (quoted) throw new SegsaException(file + ": line " + lineNumber + ": unterminated quoted field");
        out.add(cur.toString());
        return out;
    }

    public static String number(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }

    public static String field(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
