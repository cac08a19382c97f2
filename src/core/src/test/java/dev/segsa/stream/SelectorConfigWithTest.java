package dev.segsa.stream;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The with-methods change one part of a configuration, keep the rest, and hold the new values to the same ranges. */
class SelectorConfigWithTest {
    @Test
    void eachWithChangesOnePartOnly() {
        SelectorConfig base = SelectorConfig.imageSaShare(0.1);
        SelectorConfig c = base.withClip(0.5, 1.5).withDiversity(6, 16).withBudget(SelectorConfig.Budget.share(0.2).withMinSharePerSource(0.05));
        assertEquals(base.triggers(), c.triggers());
        assertEquals(base.combine(), c.combine());
        assertEquals(0.5, c.preSeconds());
        assertEquals(1.5, c.postSeconds());
        assertEquals(6, c.maxHamming());
        assertEquals(16, c.recent());
        assertEquals(0.2, c.budget().value());
        assertEquals(0.05, c.budget().minSharePerSource());
        assertEquals(-1, base.maxHamming(), "the original is unchanged");
    }

    @Test
    void outOfRangeValuesAreRefusedNamingTheField() {
        SelectorConfig base = SelectorConfig.imageSaShare(0.1);
        assertTrue(assertThrows(SegsaException.class, () -> base.withDiversity(65, 16)).getMessage().contains("diversity.maxHamming"));
        assertTrue(assertThrows(SegsaException.class, () -> base.withClip(-1, 0)).getMessage().contains("clip.preSeconds"));
        assertThrows(SegsaException.class, () -> base.withBudget(null));
    }
}
