package dev.segsa.io;

import dev.segsa.error.SegsaException;
import dev.segsa.io.StrictJson.Range;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** The strict JSON reader: what a lenient reader resolves silently is refused, in one line naming the field. */
class StrictJsonTest {

    static StrictJson.Obj obj(String json) {
        return StrictJson.parseObject(json, "test document");
    }

    static String refused(String json, Consumer<StrictJson.Obj> read) {
        SegsaException e = assertThrows(SegsaException.class, () -> read.accept(obj(json)));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    static String refusedParse(String json) {
        SegsaException e = assertThrows(SegsaException.class, () -> StrictJson.parseObject(json, "test document"));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().startsWith("test document "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void duplicateKeysAreRefusedNamingTheKeyAndWhere() {
        String m = refusedParse("{\"budget\": {\"share\": 0.05, \"share\": 0.9}}");
        assertTrue(m.contains("not valid JSON") && m.contains("\"share\"") && m.contains("budget") && m.contains("line 1"), m);
        m = refusedParse("{\"a\": 1, \"a\": 1}");
        assertTrue(m.contains("\"a\""), m);
        // the same key in two objects is not a duplicate
        assertEquals(2, obj("{\"x\": {\"a\": 1}, \"y\": {\"a\": 2}}").object("y").integer("a", Range.closed(0, 9)));
    }

    @Test
    void contentAfterTheValueIsRefused() {
        for (String json : new String[] {"{\"a\": 1} {\"a\": 2}", "{\"a\": 1}x", "{\"a\": 1}}", "{\"a\": 1} 2", "{\"a\": 1}\n,"}) {
            String m = refusedParse(json);
            assertTrue(m.contains("content after the end of the value"), json + " -> " + m);
        }
        assertEquals(1, obj("  {\"a\": 1}  \n\t").integer("a", Range.closed(0, 1)));
    }

    @Test
    void nanAndInfinityTokensAreRefused() {
        for (String token : new String[] {"NaN", "Infinity", "-Infinity", "+Infinity"}) {
            String m = refusedParse("{\"budget\": {\"share\": " + token + "}}");
            assertTrue(m.contains("not valid JSON") && m.contains("line 1"), token + " -> " + m);
            assertFalse(m.contains("enable `"), "no advice to enable a lenient feature: " + m);
        }
        // written as strings they are not numbers
        String m = refused("{\"share\": \"NaN\"}", o -> o.number("share", Range.openClosed(0, 1)));
        assertEquals("share must be a number in (0, 1], got \"NaN\"", m);
    }

    @Test
    void emptyAndNonObjectDocumentsAreRefused() {
        assertTrue(refusedParse("").contains("empty"));
        assertTrue(refusedParse("   ").contains("empty"));
        assertTrue(refusedParse("[1, 2]").contains("must be a JSON object"));
        assertTrue(refusedParse("{\"a\": ").contains("not valid JSON"));
        assertTrue(refusedParse("{'a': 1}").contains("not valid JSON"));
        assertTrue(refusedParse("{\"a\": 01}").contains("not valid JSON"));
        assertTrue(refusedParse("{\"a\": 1,}").contains("not valid JSON"));
        assertTrue(refusedParse("{\"a\": 1} // note").contains("content after"));
    }

    @Test
    void integersAreNeverCast() {
        Range warmup = Range.closed(0, 1_000_000);
        assertEquals("budget.warmupFrames must be an integer in [0, 1000000], got 2.5",
                refused("{\"budget\": {\"warmupFrames\": 2.5}}", o -> o.object("budget").integer("warmupFrames", warmup)));
        assertEquals("budget.warmupFrames must be an integer in [0, 1000000], got 1.0E20",
                refused("{\"budget\": {\"warmupFrames\": 1e20}}", o -> o.object("budget").integer("warmupFrames", warmup)));
        assertEquals("budget.warmupFrames must be an integer in [0, 1000000], got 99999999999999999999",
                refused("{\"budget\": {\"warmupFrames\": 99999999999999999999}}", o -> o.object("budget").integer("warmupFrames", warmup)));
        assertEquals("budget.warmupFrames must be an integer in [0, 1000000], got 1000001",
                refused("{\"budget\": {\"warmupFrames\": 1000001}}", o -> o.object("budget").integer("warmupFrames", warmup)));
        assertEquals("budget.warmupFrames must be an integer in [0, 1000000], got -1",
                refused("{\"budget\": {\"warmupFrames\": -1}}", o -> o.object("budget").integer("warmupFrames", warmup)));
        assertEquals("warmupFrames must be an integer in [0, 1000000], got \"30\"",
                refused("{\"warmupFrames\": \"30\"}", o -> o.integer("warmupFrames", warmup)));
        assertEquals("warmupFrames must be an integer in [0, 1000000], got true",
                refused("{\"warmupFrames\": true}", o -> o.integer("warmupFrames", warmup)));
        // an integral value written with a fraction or an exponent is that integer, exactly
        assertEquals(30, obj("{\"w\": 30.0}").integer("w", warmup));
        assertEquals(30, obj("{\"w\": 3e1}").integer("w", warmup));
        assertEquals(1_000_000, obj("{\"w\": 1000000}").integer("w", warmup));
        assertEquals(7, obj("{}").integer("w", warmup, 7));
        assertEquals(7, obj("{\"w\": null}").integer("w", warmup, 7), "null reads as absent");
    }

    @Test
    void longIntegersInRange() {
        Range pixels = Range.closed(0, 1e9);
        assertEquals("triggers[0].minPixels must be an integer in [0, 1000000000], got -0.5",
                refused("{\"triggers\": [{\"minPixels\": -0.5}]}", o -> o.objects("triggers").get(0).longInteger("minPixels", pixels)));
        assertEquals("minPixels must be an integer in [0, 1000000000], got 1000000001",
                refused("{\"minPixels\": 1000000001}", o -> o.longInteger("minPixels", pixels)));
        assertEquals(1_000_000_000L, obj("{\"minPixels\": 1e9}").longInteger("minPixels", pixels));
        assertEquals(0L, obj("{\"minPixels\": -0.0}").longInteger("minPixels", pixels));
        assertEquals(Long.MAX_VALUE, obj("{\"n\": 9223372036854775807}").longInteger("n", Range.closed(0, 0x1p63)));
        assertThrows(IllegalArgumentException.class, () -> obj("{\"n\": 1}").integer("n", Range.closed(0, 1e12)),
                "an int accessor with a range beyond int is a programming error");
    }

    @Test
    void numbersInTheirRange() {
        Range horizon = Range.openClosed(0, 86_400);
        assertEquals("budget.horizonSeconds must be in (0, 86400], got 1.0E300",
                refused("{\"budget\": {\"horizonSeconds\": 1e300}}", o -> o.object("budget").number("horizonSeconds", horizon)));
        assertEquals("budget.horizonSeconds must be in (0, 86400], got 0",
                refused("{\"budget\": {\"horizonSeconds\": 0}}", o -> o.object("budget").number("horizonSeconds", horizon)));
        // beyond a double: Jackson reads it as infinite, the range refuses it
        assertTrue(refused("{\"h\": 1e400}", o -> o.number("h", horizon)).startsWith("h must be in (0, 86400], got "));
        assertEquals("h must be a number in (0, 86400], got \"60\"", refused("{\"h\": \"60\"}", o -> o.number("h", horizon)));
        assertEquals("h must be a number in (0, 86400], got [60]", refused("{\"h\": [60]}", o -> o.number("h", horizon)));
        assertEquals(86_400, obj("{\"h\": 86400}").number("h", horizon));
        assertEquals(0.5, obj("{\"h\": 0.5}").number("h", horizon));
        assertEquals(60, obj("{}").number("h", horizon, 60));
        assertEquals("threshold must be a finite number, got \"x\"",
                refused("{\"threshold\": \"x\"}", o -> o.number("threshold", Range.FINITE)));
        assertEquals(-1e300, obj("{\"t\": -1e300}").number("t", Range.FINITE));
        assertEquals("share must be in (0, 1], got 1.5", refused("{\"share\": 1.5}", o -> o.number("share", Range.openClosed(0, 1))));
    }

    @Test
    void stringsBooleansObjectsAndArrays() {
        StrictJson.Obj o = obj("{\"s\": \"x\", \"b\": false, \"o\": {\"k\": 1}, \"a\": [{\"k\": 1}, 2], \"n\": [1, 2.5], \"i\": [1, 2],"
                + " \"ss\": [\"p\", 3], \"nul\": null}");
        assertEquals("x", o.string("s"));
        assertEquals("d", o.string("missing", "d"));
        assertEquals("d", o.string("nul", "d"));
        assertFalse(o.bool("b"));
        assertTrue(o.bool("missing", true));
        assertEquals("o", o.object("o").path());
        assertEquals("o.k", o.object("o").path("k"));
        assertNull(o.optionalObject("missing"));
        assertArrayEquals(new double[] {1, 2.5}, o.numbers("n", Range.FINITE));
        assertArrayEquals(new int[] {1, 2}, o.integers("i", Range.INT));
        assertEquals("missing is missing", assertThrows(SegsaException.class, () -> o.string("missing")).getMessage());
        assertEquals("nul is missing", assertThrows(SegsaException.class, () -> o.string("nul")).getMessage());
        assertEquals("b must be a string, got false", assertThrows(SegsaException.class, () -> o.string("b")).getMessage());
        assertEquals("s must be true or false, got \"x\"", assertThrows(SegsaException.class, () -> o.bool("s")).getMessage());
        assertEquals("s must be an object, got \"x\"", assertThrows(SegsaException.class, () -> o.object("s")).getMessage());
        assertEquals("a[1] must be an object, got 2", assertThrows(SegsaException.class, () -> o.objects("a")).getMessage());
        assertEquals("n[1] must be an integer in [0, 9], got 2.5",
                assertThrows(SegsaException.class, () -> o.integers("n", Range.closed(0, 9))).getMessage());
        assertEquals("i[1] must be in [0, 1], got 2", assertThrows(SegsaException.class, () -> o.numbers("i", Range.closed(0, 1))).getMessage());
        assertEquals("ss[1] must be a string, got 3", assertThrows(SegsaException.class, () -> o.strings("ss")).getMessage());
        assertEquals("s must be an array, got \"x\"", assertThrows(SegsaException.class, () -> o.strings("s")).getMessage());
        String longText = "y".repeat(500);
        String m = assertThrows(SegsaException.class, () -> obj("{\"s\": \"" + longText + "\"}").bool("s")).getMessage();
        assertTrue(m.length() < 100 && m.endsWith("..."), "long values are cut: " + m);
    }

    @Test
    void unknownFieldsAreRefusedWithTheirPath() {
        StrictJson.Obj o = obj("{\"triggers\": [{\"score\": \"image-mdsa\", \"treshold\": 3}]}");
        o.known("triggers");
        List<StrictJson.Obj> ts = o.objects("triggers");
        String m = assertThrows(SegsaException.class, () -> ts.get(0).known("name", "score", "threshold")).getMessage();
        assertEquals("triggers[0].treshold: unknown field (known: name, score, threshold)", m);
        assertThrows(SegsaException.class, () -> o.known("budget"));
    }

    @Test
    void rangesCheckValuesBuiltInCodeAndPrintAsWritten() {
        assertEquals("(0, 1]", Range.openClosed(0, 1).toString());
        assertEquals("[0, 1000000000000]", Range.closed(0, 1e12).toString());
        assertEquals("[-1, 64]", Range.closed(-1, 64).toString());
        assertEquals("[0.25, 0.5]", Range.closed(0.25, 0.5).toString());
        assertEquals(0.5, Range.openClosed(0, 1).check("budget.share", 0.5));
        assertEquals("budget.share must be in (0, 1], got NaN",
                assertThrows(SegsaException.class, () -> Range.openClosed(0, 1).check("budget.share", Double.NaN)).getMessage());
        assertEquals("x must be a finite number, got Infinity",
                assertThrows(SegsaException.class, () -> Range.FINITE.check("x", Double.POSITIVE_INFINITY)).getMessage());
        assertEquals("diversity.recent must be an integer in [1, 4096], got 0",
                assertThrows(SegsaException.class, () -> Range.closed(1, 4096).checkInteger("diversity.recent", 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Range.closed(0, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> Range.closed(1, 0));
    }
}
