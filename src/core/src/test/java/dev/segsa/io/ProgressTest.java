package dev.segsa.io;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.*;

class ProgressTest {
    @Test
    void silentWhenNotATerminal() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = new Progress("fit", 3, new PrintStream(b), false);
        p.step(); p.step(); p.step();
        assertEquals(0, b.size());
    }

    @Test
    void countsWhatItIsGiven() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = new Progress("decide --study", 3, "classes", new PrintStream(b), true);
        for (int i = 0; i < 3; i++) p.step();
        String s = b.toString();
        assertTrue(s.contains("decide --study 3/3 classes"), s);
        assertTrue(s.contains("classes/s"), s);
        assertFalse(s.contains("frames"), s);
    }

    @Test
    void terminalLineShowsFramesRateAndEta() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = new Progress("score", 2, new PrintStream(b), true);
        p.step();
        p.step();
        String s = b.toString();
        assertTrue(s.contains("score 2/2 frames"), s);
        assertTrue(s.contains("frames/s"), s);
        assertTrue(s.contains("ETA 00:00"), s);
        assertEquals("1:01:01", Progress.clock(3661));
        assertEquals("--:--", Progress.clock(Double.NaN));
    }
}
