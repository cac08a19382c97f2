package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * segsa bench --compare a.json b.json: per thread count in both files, the medians of frames/s and of the overhead, the
 * change (frames/s in %, the overhead in percentage points), each file's load average, and whether the change exceeds the spread of the repeats (the two min-max ranges do not overlap) or not.
 */
final class BenchCompare {
    private BenchCompare() {}

    /** Settings that make two runs measure different things: named when they differ. */
    private static final String[] SETTINGS = {"model", "saSha256", "framesSource", "frameWidth", "frameHeight", "lsa", "lsaReferences",
            "uncertainty", "segments", "risk", "optimizeModel", "secondsPerRepeat", "repeats", "machine"};

    static int compare(Path a, Path b, PrintStream out) {
        JsonNode ja = read(a), jb = read(b);
        out.println("a: " + a + describe(ja));
        out.println("b: " + b + describe(jb));
        List<String> differ = new ArrayList<>();
        for (String k : SETTINGS) if (!ja.path(k).equals(jb.path(k))) differ.add(k);
        if (!differ.isEmpty()) out.println("note: the two differ in " + String.join(", ", differ));
        Map<Integer, JsonNode> runsB = new LinkedHashMap<>();
        for (JsonNode r : jb.get("runs")) runsB.put(r.get("threads").asInt(), r);
        int shared = 0;
        for (JsonNode ra : ja.get("runs")) {
            int t = ra.get("threads").asInt();
            JsonNode rb = runsB.get(t);
            if (rb == null) continue;
            shared++;
            out.printf(Locale.ROOT, "threads=%d: frames/s %s; overhead %s%n", t,
                    line(ra.get("framesPerSecondStats"), rb.get("framesPerSecondStats"), false),
                    line(ra.get("overheadStats"), rb.get("overheadStats"), true));
        }
        if (shared == 0) out.println("no thread count is in both files: nothing to compare");
        return 0;
    }

    /** " (segsa 0.1.0, 2026-12-07T.., 3 repeats of 10.0 s)" from what the file has. */
    private static String describe(JsonNode j) {
        List<String> parts = new ArrayList<>();
        if (j.path("segsaVersion").isTextual()) parts.add("segsa " + j.get("segsaVersion").asText());
        if (j.path("timestamp").isTextual()) parts.add(j.get("timestamp").asText());
        if (j.path("repeats").isInt()) parts.add(j.get("repeats").asInt() + " repeats of " + j.path("secondsPerRepeat").asDouble() + " s");
        // the machine's load says whether something else ran: the first thing to look at when a difference exceeds the spread
        if (j.path("loadAverageBefore").isArray() && j.path("loadAverageAfter").isArray()) {
            parts.add(String.format(Locale.ROOT, "load average %.2f before, %.2f after", j.get("loadAverageBefore").path(0).asDouble(Double.NaN),
                    j.get("loadAverageAfter").path(0).asDouble(Double.NaN)));
        }
        return parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")";
    }

    /** The change of a rate in %, of a share (the overhead) in percentage points. */
    private static String line(JsonNode a, JsonNode b, boolean percent) {
        BenchStats.Spread sa = spread(a), sb = spread(b);
        String change = percent ? String.format(Locale.ROOT, "%+.1f points", 100 * (sb.median() - sa.median()))
                : String.format(Locale.ROOT, "%+.1f%%", 100 * (sb.median() - sa.median()) / Math.abs(sa.median()));
        String verdict = sa.overlaps(sb) ? "within the spread" : "exceeds the spread";
        return String.format(Locale.ROOT, "median %s -> %s (%s), %s (a %s-%s, b %s-%s)", v(sa.median(), percent), v(sb.median(), percent),
                change, verdict, v(sa.min(), percent), v(sa.max(), percent), v(sb.min(), percent), v(sb.max(), percent));
    }

    private static String v(double x, boolean percent) {
        return percent ? String.format(Locale.ROOT, "%.1f%%", 100 * x) : String.format(Locale.ROOT, "%.2f", x);
    }

    private static BenchStats.Spread spread(JsonNode s) {
        return new BenchStats.Spread(s.get("median").asDouble(), s.get("min").asDouble(), s.get("max").asDouble());
    }

    /** The file as bench JSON (schemaVersion 3 or later, with the repeats' spreads), else one line naming it. */
    private static JsonNode read(Path file) {
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not a segsa bench JSON file (" + firstLine(e.getMessage()) + ")");
        }
        String why = null;
        if (j == null || !j.isObject()) why = "not a JSON object";
        else if (!j.path("schemaVersion").isInt() || !j.path("runs").isArray()) why = "no schemaVersion and runs";
        else if (j.get("schemaVersion").asInt() < 3) why = "schemaVersion " + j.get("schemaVersion").asInt() + " has no repeats: rerun bench";
        else {
            for (JsonNode r : j.get("runs")) {
                if (!r.path("threads").isInt()) why = "a run without threads";
                for (String k : new String[] {"framesPerSecondStats", "overheadStats"}) {
                    for (String f : new String[] {"median", "min", "max"}) if (!r.path(k).path(f).isNumber()) why = "a run without " + k + "." + f;
                }
            }
        }
        if (why != null) throw new IllegalArgumentException(file + " is not a segsa bench JSON file (" + why + ")");
        return j;
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
