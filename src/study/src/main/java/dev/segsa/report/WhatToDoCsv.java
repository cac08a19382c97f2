package dev.segsa.report;

import dev.segsa.error.SegsaException;
import dev.segsa.evaluate.Evaluation;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.SmallTextFile;
import dev.segsa.scores.ScoresCsv;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code what_to_do.csv} of {@code segsa evaluate}: the report's "What to do", one row per class
 * and group, so that a program (and {@code segsa select --score best}) reads the report's decision
 * instead of re-deriving it from the other files:
 * {@code target,kind,verdict,order,saving_percent,oracle_percent,random_percent,select_score,
 * select_saving_percent,pilot_to_certify,flagged}.
 * <ul>
 *   <li>{@code verdict}: {@code skip}, {@code nothing_to_label}, {@code no_score_beats_random} or
 *       {@code nothing_skipped} ({@link EvaluationReport.Verdict});</li>
 *   <li>{@code order}: the order that skips most (a score column or a fused order; empty unless
 *       {@code skip}); {@code saving_percent}: its largest saving within the report's tolerance,
 *       measured in hindsight;</li>
 *   <li>{@code select_score}: the best single score column, the one {@code segsa select} ranks by
 *       (empty when none skips a frame), and its saving;</li>
 *   <li>{@code pilot_to_certify}: the pilot {@code segsa decide} needs to certify that saving on a
 *       new pool (0 when nothing is skipped);</li>
 *   <li>{@code flagged}: the score columns the report never recommends for this target
 *       (wrong-signed or worse than random), separated by {@code ;}.</li>
 * </ul>
 */
public final class WhatToDoCsv {
    public static final String FILE = "what_to_do.csv";
    static final String HEADER = "target,kind,verdict,order,saving_percent,oracle_percent,random_percent,select_score,"
            + "select_saving_percent,pilot_to_certify,flagged";

    /** One target's row. */
    public record Row(String target, String kind, EvaluationReport.Verdict verdict, String order, int savingPercent, int oraclePercent,
                      int randomPercent, String selectScore, int selectSavingPercent, int pilotToCertify, List<String> flagged) {}

    private WhatToDoCsv() {}

    /** Writes the advice of {@code r} (atomically). */
    public static void write(Path out, Evaluation.Result r) {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (EvaluationReport.Advice a : EvaluationReport.advice(r)) {
            List<String> flagged = new ArrayList<>();
            for (String c : r.columns()) {
                // the advice's notes begin with the column they flag
                if (a.flags().stream().anyMatch(f -> f.startsWith(c + " "))) flagged.add(c);
            }
            b.append(ScoresCsv.field(a.target().name())).append(',').append(a.target().group() ? "group" : "class").append(',')
                    .append(a.verdict().name().toLowerCase(Locale.ROOT)).append(',')
                    .append(a.best() == null ? "" : ScoresCsv.field(a.best())).append(',').append(a.saving()).append(',')
                    .append(a.oracle()).append(',').append(a.random()).append(',')
                    .append(a.selectable() == null || a.selectableSaving() == 0 ? "" : ScoresCsv.field(a.selectable())).append(',')
                    .append(a.selectable() == null ? 0 : a.selectableSaving()).append(',')
                    .append(EvaluationReport.pilotToCertify(r, a)).append(',')
                    .append(ScoresCsv.field(String.join(";", flagged))).append('\n');
        }
        AtomicOutput.write(out, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a {@code what_to_do.csv}.
     *
     * @throws SegsaException naming the file and the line: missing, too large, not this file's
     *                        header, or a field that does not parse
     */
    public static List<Row> read(Path file) {
        String text = SmallTextFile.read(file, 16L << 20, "the report's what_to_do.csv");
        String[] lines = text.split("\r?\n");
        if (lines.length == 0 || !lines[0].equals(HEADER)) {
            throw new SegsaException(file + ": not a what_to_do.csv of segsa evaluate (header '" + (lines.length == 0 ? "" : lines[0])
                    + "', expected '" + HEADER + "')");
        }
        List<Row> rows = new ArrayList<>();
        for (int ln = 1; ln < lines.length; ln++) {
            if (lines[ln].isEmpty()) continue;
            List<String> f = ScoresCsv.parseLine(lines[ln], file, ln + 1);
            if (f.size() != 11) throw new SegsaException(file + ": line " + (ln + 1) + ": " + f.size() + " fields, the header has 11");
            try {
                EvaluationReport.Verdict verdict = EvaluationReport.Verdict.valueOf(f.get(2).toUpperCase(Locale.ROOT));
                rows.add(new Row(f.get(0), f.get(1), verdict, f.get(3), Integer.parseInt(f.get(4)), Integer.parseInt(f.get(5)),
                        Integer.parseInt(f.get(6)), f.get(7), Integer.parseInt(f.get(8)), Integer.parseInt(f.get(9)),
                        f.get(10).isEmpty() ? List.of() : List.of(f.get(10).split(";"))));
            } catch (IllegalArgumentException e) {
                throw new SegsaException(file + ": line " + (ln + 1) + ": " + e.getMessage(), e);
            }
        }
        return rows;
    }
}
