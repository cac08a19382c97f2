package dev.segsa.synth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class ConditionSpecTest {
    @Test
    void defaultIsTheInDistributionSetting() {
        for (String s : new String[] {"", "default", "  DEFAULT "}) {
            ConditionSpec spec = ConditionSpec.parse(s);
            assertTrue(spec.isDefault());
            assertEquals(SceneConditions.DEFAULT, spec.sample(new SplittableRandom(1)));
        }
        assertEquals("time=day,shadows=none,traffic=light,noise=0,blur=0", SceneConditions.DEFAULT.toString());
    }

    @Test
    void singleValuesAndUnmentionedKeys() {
        SceneConditions c = ConditionSpec.parse("time=night,noise=0.25").sample(new SplittableRandom(3));
        assertEquals(new SceneConditions(TimeOfDay.NIGHT, ShadowPattern.NONE, TrafficDensity.LIGHT, 0.25, 0), c);
        c = ConditionSpec.parse("Shadows=complex | traffic=heavy , blur=3").sample(new SplittableRandom(3));
        assertEquals(new SceneConditions(TimeOfDay.DAY, ShadowPattern.COMPLEX, TrafficDensity.HEAVY, 0, 3), c);
    }

    @Test
    void weightedChoicesAreSampledInProportion() {
        ConditionSpec spec = ConditionSpec.parse("time=day:3,night:1,traffic=none|heavy");
        SplittableRandom r = new SplittableRandom(7);
        int n = 8000, night = 0, heavy = 0;
        for (int i = 0; i < n; i++) {
            SceneConditions c = spec.sample(r);
            assertNotEquals(TimeOfDay.DUSK, c.time());
            assertNotEquals(TrafficDensity.LIGHT, c.traffic());
            if (c.time() == TimeOfDay.NIGHT) night++;
            if (c.traffic() == TrafficDensity.HEAVY) heavy++;
        }
        assertEquals(0.25, night / (double) n, 0.02);
        assertEquals(0.5, heavy / (double) n, 0.025);
    }

    @Test
    void mixCoversEveryValueAndRangesStayInsideAtThreeDecimals() {
        ConditionSpec spec = ConditionSpec.parse("time=mix,shadows=mix,noise=0.1..0.3,blur=mix");
        SplittableRandom r = new SplittableRandom(9);
        boolean[] seen = new boolean[TimeOfDay.values().length];
        boolean complex = false;
        double maxBlur = 0;
        for (int i = 0; i < 2000; i++) {
            SceneConditions c = spec.sample(r);
            seen[c.time().ordinal()] = true;
            complex |= c.shadows() == ShadowPattern.COMPLEX;
            assertTrue(c.noise() >= 0.1 && c.noise() <= 0.3, "noise " + c.noise());
            assertEquals(c.noise(), Math.round(c.noise() * 1000) / 1000.0, 0);
            assertTrue(c.blur() >= 0 && c.blur() <= 3);
            maxBlur = Math.max(maxBlur, c.blur());
        }
        for (boolean s : seen) assertTrue(s);
        assertTrue(complex);
        assertTrue(maxBlur > 2.5, "blur=mix spans 0..3");
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "time=noon; unknown time 'noon' (expected day, dusk, night or mix)",
            "weather=rain; unknown key 'weather'",
            "night; 'night' has no key",
            "noise=2; noise 2 is outside 0..1",
            "blur=-1; blur -1 is outside 0..3",
            "noise=0.5..0.2; range 0.5..0.2 is empty",
            "noise=lots; noise value 'lots' is not a number",
            "time=day:0; weight of time=day must be a positive number",
            "time=day:x; weight 'x' of time=day is not a number",
            "time=day,time=night; key 'time' given twice",
            "time=day,day; value day listed twice",
            "time=day,,traffic=heavy; empty entry",
            "traffic=; no value for 'traffic'"})
    void badSpecsAreRefusedWithTheReason(String spec, String reason) {
        var e = assertThrows(IllegalArgumentException.class, () -> ConditionSpec.parse(spec));
        assertTrue(e.getMessage().startsWith("conditions '" + spec + "': "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
