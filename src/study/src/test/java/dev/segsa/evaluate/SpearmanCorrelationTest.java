package dev.segsa.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.*;

/** Spearman rho / p and Clopper-Pearson bounds against scipy (tools/golden/evaluate.py -> golden/evaluate.json). */
class SpearmanCorrelationTest {
    static JsonNode golden() throws Exception {
        try (InputStream in = SpearmanCorrelationTest.class.getResourceAsStream("/golden/evaluate.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
        return out;
    }

    @Test
    void rhoAndTwoSidedPMatchScipySpearmanr() throws Exception {
        int cases = 0;
        for (JsonNode c : golden().get("spearman")) {
            String name = c.get("name").asText();
            SpearmanCorrelation s = SpearmanCorrelation.of(doubles(c.get("x")), doubles(c.get("y")));
            assertEquals(c.get("x").size(), s.n(), name);
            if (c.get("rho").isNull()) {
                assertTrue(Double.isNaN(s.rho()) && Double.isNaN(s.pValue()), name + ": expected undefined, got " + s);
            } else {
                double rho = c.get("rho").asDouble(), p = c.get("p").asDouble();
                assertEquals(rho, s.rho(), 1e-12, name + " rho");
                if (p == 0) assertEquals(0.0, s.pValue(), name + " p");
                else assertEquals(p, s.pValue(), 1e-9 * p, name + " p (relative 1e-9)");
            }
            cases++;
        }
        assertTrue(cases >= 8);
    }

    @Test
    void fewerThanThreePairsIsUndefined() {
        SpearmanCorrelation s = SpearmanCorrelation.of(new double[] {1, 2}, new double[] {2, 1});
        assertTrue(Double.isNaN(s.rho()));
        assertThrows(IllegalArgumentException.class, () -> SpearmanCorrelation.of(new double[] {1, Double.NaN, 3}, new double[] {1, 2, 3}));
    }

    @Test
    void clopperPearsonUpperBoundMatchesScipyBetaQuantile() throws Exception {
        for (JsonNode c : golden().get("clopper_pearson")) {
            double u = ClopperPearson.upperBound(c.get("events").asInt(), c.get("trials").asInt(), c.get("confidence").asDouble());
            assertEquals(c.get("upper").asDouble(), u, 1e-10, c.toString());
        }
        assertThrows(IllegalArgumentException.class, () -> ClopperPearson.upperBound(3, 2, 0.95));
    }
}
