package dev.segsa.report;

import dev.segsa.error.SegsaException;
import dev.segsa.evaluate.Evaluation;
import dev.segsa.scores.ScoresCsv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.segsa.report.EvaluationReportAdviceTest.*;
import static org.junit.jupiter.api.Assertions.*;

/** what_to_do.csv carries the report's advice row for row, and reads back as written. */
class WhatToDoCsvTest {
    @TempDir
    Path dir;

    @Test
    void theFileIsTheAdvice() {
        // car: mdsa wrong-signed, lsa skips 10 % (the case of EvaluationReportAdviceTest); road: nothing to label
        List<ScoresCsv.Row> rows = new ArrayList<>();
        addClass(rows, "car", wrongSignedIou(), rightSignedLsa());
        addClass(rows, "road", pattern("g".repeat(30)), lsaFor(java.util.stream.IntStream.range(0, 30).toArray()));
        Evaluation.Result r = evaluate(rows, List.of("mdsa", "lsa"));
        Path file = dir.resolve(WhatToDoCsv.FILE);
        WhatToDoCsv.write(file, r);

        List<WhatToDoCsv.Row> read = WhatToDoCsv.read(file);
        List<EvaluationReport.Advice> advice = EvaluationReport.advice(r);
        assertEquals(advice.size(), read.size());
        WhatToDoCsv.Row car = read.stream().filter(x -> x.target().equals("car")).findFirst().orElseThrow();
        EvaluationReport.Advice a = advice(r, "car");
        assertEquals(EvaluationReport.Verdict.SKIP, car.verdict());
        assertEquals("lsa", car.order());
        assertEquals(10, car.savingPercent());
        assertEquals(a.oracle(), car.oraclePercent());
        assertEquals(a.random(), car.randomPercent());
        assertEquals("lsa", car.selectScore());
        assertEquals(10, car.selectSavingPercent());
        assertEquals(EvaluationReport.pilotToCertify(r, a), car.pilotToCertify());
        assertEquals(590, car.pilotToCertify(), "59 skipped pilot frames certify 10 %: 590 frames");
        assertEquals(List.of("mdsa"), car.flagged());
        assertEquals("class", car.kind());
        WhatToDoCsv.Row road = read.stream().filter(x -> x.target().equals("road")).findFirst().orElseThrow();
        assertEquals(EvaluationReport.Verdict.NOTHING_TO_LABEL, road.verdict());
        assertEquals("", road.order());
        assertEquals("", road.selectScore());
    }

    @Test
    void anotherFileIsRefusedWithItsName() throws Exception {
        Path other = Files.writeString(dir.resolve("what_to_do.csv"), "target,kind,order\ncar,class,mdsa\n");
        SegsaException e = assertThrows(SegsaException.class, () -> WhatToDoCsv.read(other));
        assertTrue(e.getMessage().startsWith(other + ": not a what_to_do.csv of segsa evaluate"), e.getMessage());
        Path bad = Files.writeString(dir.resolve("bad.csv"), WhatToDoCsv.HEADER + "\ncar,class,maybe,mdsa,10,90,0,mdsa,10,590,\n");
        SegsaException v = assertThrows(SegsaException.class, () -> WhatToDoCsv.read(bad));
        assertTrue(v.getMessage().startsWith(bad + ": line 2: "), v.getMessage());
    }
}
