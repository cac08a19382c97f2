package dev.segsa.architecture;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The layering of segsa's packages (the README's layout table): each package imports only
 * packages of lower layers, so the packages follow the data flow and have no cycle. Checked on
 * the compiled classes of every module (main code, not tests) with ArchUnit.
 */
class ArchitectureTest {
    /** Layer of each package, lowest first; packages of one layer do not import each other. */
    static final Map<String, Integer> LAYERS = Map.ofEntries(
            Map.entry("dev.segsa.error", 0),
            Map.entry("dev.segsa.io", 1),
            Map.entry("dev.segsa.nativelib", 2),
            Map.entry("dev.segsa.features", 3),
            Map.entry("dev.segsa.model", 4),
            Map.entry("dev.segsa.video", 4),
            Map.entry("dev.segsa.mcap", 4),     // MCAP logs in and out
            Map.entry("dev.segsa.samodel", 5),
            Map.entry("dev.segsa.kernel", 6),
            Map.entry("dev.segsa.segments", 6), // connected components of the predicted classes and their features
            Map.entry("dev.segsa.risk", 7),     // the lab's risk model, evaluated on a frame's segments
            Map.entry("dev.segsa.fit", 8),
            Map.entry("dev.segsa.score", 8),
            Map.entry("dev.segsa.stream", 9),   // online keep/drop over scored frames
            Map.entry("dev.segsa", 10),         // the front door: Segsa, SegsaFit, FrameFiles
            Map.entry("dev.segsa.scores", 11),
            Map.entry("dev.segsa.videoscore", 11), // scoring a video with the engine (segsa-video)
            Map.entry("dev.segsa.evaluate", 12),
            Map.entry("dev.segsa.report", 13),
            Map.entry("dev.segsa.synth", 14),
            Map.entry("dev.segsa.train", 14),
            Map.entry("dev.segsa.demo", 15),
            Map.entry("dev.segsa.cli", 16));

    static final JavaClasses CLASSES = new ClassFileImporter()
            // main classes only: not the modules' test-classes folders, nor core's test jar
            .withImportOption(location -> !location.contains("/test-classes/") && !location.contains("-tests.jar"))
            .importPackages("dev.segsa");

    @Test
    void everyMainClassIsInALayer() {
        TreeSet<String> unknown = new TreeSet<>();
        int n = 0;
        for (JavaClass c : CLASSES) {
            if (c.getPackageName().startsWith("dev.segsa.bench")) continue;
            n++;
            if (!LAYERS.containsKey(c.getPackageName())) unknown.add(c.getPackageName());
        }
        assertTrue(n > 100, "ArchUnit imported only " + n + " segsa classes: cannot check the layering");
        assertTrue(unknown.isEmpty(), "packages without a layer in ArchitectureTest.LAYERS (and the README): " + unknown);
    }

    @Test
    void packagesImportOnlyLowerLayers() {
        List<String> violations = new ArrayList<>();
        for (JavaClass c : CLASSES) {
            Integer from = LAYERS.get(c.getPackageName());
            if (from == null) continue;
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String target = d.getTargetClass().getPackageName();
                if (target.equals(c.getPackageName())) continue;
                Integer to = LAYERS.get(target);
                if (to == null) continue;
                if (to >= from) violations.add(d.getDescription());
            }
        }
        assertTrue(violations.isEmpty(), violations.size() + " imports against the layering:\n" + String.join("\n",
                violations.subList(0, Math.min(40, violations.size()))));
    }

    @Test
    void noPackageCycles() {
        SlicesRuleDefinition.slices().matching("dev.segsa.(**)").should().beFreeOfCycles().check(CLASSES);
    }
}
