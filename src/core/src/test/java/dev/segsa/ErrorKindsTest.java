package dev.segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.error.SegsaException.Kind;
import dev.segsa.features.PixelFormat;
import dev.segsa.io.StopRequest;
import dev.segsa.kernel.Backends;
import dev.segsa.model.TestModels;
import dev.segsa.risk.RiskModel;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.stream.SelectorConfig;
import dev.segsa.stream.Trigger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Every kind of {@link SegsaException} the front door ({@link Segsa}, {@link Segsa.Builder}, {@link SegsaFit}) can
 * throw, from the cause its javadoc names: the kind the javadoc states, a message naming the file or frame, and
 * options named by their builder method (the command line's flag after it).
 */
class ErrorKindsTest {
    @TempDir
    static Path dir;
    static Path fixture, model, saFile;
    static SaModel sa;
    static final int W = SegsaTest.W, H = SegsaTest.H;

    @BeforeAll
    static void setUp() throws Exception {
        fixture = Path.of(ErrorKindsTest.class.getResource("/e2e").toURI());
        model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 8, 4, 21);
        saFile = dir.resolve("net.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(50).seed(1).open()) {
            fit.addFolder(fixture.resolve("train/images"), fixture.resolve("train/labels"), 0, () -> {});
            sa = fit.finish();
            SaModelFile.write(sa, saFile);
        }
    }

    static SegsaException assertKind(Kind kind, Executable call) {
        SegsaException e = assertThrows(SegsaException.class, call);
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    static byte[] rgb(long seed) {
        return SegsaTest.frameRgb(seed, W, H);
    }

    static void score(Segsa s, long seed) {
        s.score(MemorySegment.ofArray(rgb(seed)), W, H, 3L * W, PixelFormat.RGB, "f" + seed);
    }

    static Path script(String name, String forwardBody) {
        Path p = dir.resolve(name);
        TestModels.saveScript(p, forwardBody);
        return p;
    }

    // ---- MODEL

    @Test
    void aMissingModelFileIsModel() {
        Path missing = dir.resolve("missing.pt");
        SegsaException e = assertKind(Kind.MODEL, () -> Segsa.open(missing, saFile));
        assertTrue(e.getMessage().startsWith(missing + ": model file not found"), e.getMessage());
        assertKind(Kind.MODEL, () -> Segsa.builder(missing, saFile).allowModelMismatch(true).open());
        assertKind(Kind.MODEL, () -> Segsa.builder(missing, sa).open());
        assertKind(Kind.MODEL, () -> SegsaFit.builder(missing).open());
        assertKind(Kind.MODEL, () -> SegsaFit.builder(missing).fitSettings());
    }

    @Test
    void aFileThatIsNotTorchScriptIsModelEvenThoughItIsNotTheFittedOne() throws Exception {
        Path text = dir.resolve("text.pt");
        Files.writeString(text, "not a model");
        Path truncated = dir.resolve("truncated.pt");
        byte[] bytes = Files.readAllBytes(model);
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        for (Path p : List.of(text, truncated)) {
            SegsaException e = assertKind(Kind.MODEL, () -> Segsa.open(p, saFile));
            assertTrue(e.getMessage().contains("not a loadable TorchScript model"), e.getMessage());
            assertKind(Kind.MODEL, () -> Segsa.builder(p, saFile).allowModelMismatch(true).open());
            assertKind(Kind.MODEL, () -> SegsaFit.builder(p).open());
        }
    }

    @Test
    void aModelThatTouchesFilesIsModelAndTheMessageNamesTheBuilderMethod() {
        Path reader = script("reader.pt", "t = torch.from_file(\"" + dir.resolve("victim.bin") + "\", True, 64)\n"
                + "f = torch.avg_pool2d(x, [4, 4])\nreturn (f, f + t.sum())");
        for (Executable open : List.<Executable>of(() -> Segsa.open(reader, saFile),
                () -> Segsa.builder(reader, saFile).allowModelMismatch(true).open(), () -> SegsaFit.builder(reader).open())) {
            SegsaException e = assertKind(Kind.MODEL, open);
            assertTrue(e.getMessage().contains("refusing to run this TorchScript model"), e.getMessage());
            assertTrue(e.getMessage().contains("trustModel(true) to Segsa.Builder or SegsaFit.Builder (segsa: --trust-model)"),
                    e.getMessage());
        }
    }

    @Test
    void invalidModelMetadataIsModel() throws Exception {
        Path m = dir.resolve("meta.pt");
        Files.copy(model, m);
        Files.writeString(dir.resolve("meta.segsa.json"), "{\"mean\": [\"a\", \"b\", \"c\"]}");
        assertKind(Kind.MODEL, () -> SegsaFit.builder(m).fitSettings());
        assertKind(Kind.MODEL, () -> SegsaFit.builder(m).open());
    }

    @Test
    void aForwardThatRaisesOrBreaksTheContractIsModelAndTheEngineStaysUsable() {
        Path raises = script("raises.pt", "assert bool(x.sum() < -1.0e30), \"camera calibration missing\"\nreturn (x, x)");
        try (Segsa s = Segsa.builder(raises, saFile).allowModelMismatch(true).open()) {
            SegsaException e = assertKind(Kind.MODEL, () -> score(s, 1));
            assertTrue(e.getMessage().contains("forward failed") && e.getMessage().contains("camera calibration missing"), e.getMessage());
            assertKind(Kind.MODEL, () -> score(s, 2));
        }
        Path single = script("single.pt", "return torch.avg_pool2d(x, [4, 4])");
        try (Segsa s = Segsa.builder(single, saFile).allowModelMismatch(true).open()) {
            SegsaException e = assertKind(Kind.MODEL, () -> score(s, 1));
            assertTrue(e.getMessage().contains("does not follow the segsa contract"), e.getMessage());
        }
        try (SegsaFit fit = SegsaFit.builder(single).open()) {
            assertKind(Kind.MODEL, () -> fit.add("a", SegsaTest.image(rgb(1), W, H), new int[W * H]));
        }
    }

    // ---- SA_FILE

    @Test
    void aMissingOrCorruptSaFileIsSaFile() throws Exception {
        Path missing = dir.resolve("missing.sa");
        SegsaException e = assertKind(Kind.SA_FILE, () -> Segsa.open(model, missing));
        assertTrue(e.getMessage().startsWith(missing + ": SA model file not found"), e.getMessage());
        Path text = dir.resolve("text.sa");
        Files.writeString(text, "not an SA model, but long enough to have a magic");
        assertKind(Kind.SA_FILE, () -> Segsa.open(model, text));
        byte[] good = Files.readAllBytes(saFile);
        Path truncated = dir.resolve("truncated.sa");
        Files.write(truncated, Arrays.copyOf(good, good.length - 100));
        assertKind(Kind.SA_FILE, () -> Segsa.open(model, truncated));
        Path flipped = dir.resolve("flipped.sa");
        byte[] bad = good.clone();
        bad[bad.length - 50] ^= 1;
        Files.write(flipped, bad);
        assertKind(Kind.SA_FILE, () -> Segsa.open(model, flipped));
        // the SA file is read before the model: both missing is an SA_FILE error
        assertKind(Kind.SA_FILE, () -> Segsa.open(dir.resolve("missing.pt"), missing));
    }

    @Test
    void anotherModelThanTheFittedOneIsSaFileAndTheMessageNamesTheBuilderMethod() {
        Path other = dir.resolve("other.pt");
        TestModels.saveRandomConvNet(other, 8, 4, 22);
        SegsaException e = assertKind(Kind.SA_FILE, () -> Segsa.open(other, saFile));
        assertTrue(e.getMessage().startsWith(saFile + ": fitted with model net.pt"), e.getMessage());
        assertTrue(e.getMessage().contains("pass Segsa.Builder.allowModelMismatch(true) (segsa: --allow-model-mismatch)"),
                e.getMessage());
        assertFalse(e.getMessage().contains("--model"), "a library message names no command-line option alone: " + e.getMessage());
        // an SA model in memory: named by saSource when given
        SegsaException inMemory = assertKind(Kind.SA_FILE, () -> Segsa.builder(other, sa).saSource(Path.of("from.sa")).open());
        assertTrue(inMemory.getMessage().startsWith("from.sa: fitted with model net.pt"), inMemory.getMessage());
        Segsa.builder(other, saFile).allowModelMismatch(true).open().close();
    }

    @Test
    void aModelOfOtherShapesAllowedAsAMismatchIsSaFileOnTheFrame() {
        Path wider = dir.resolve("wider.pt");
        TestModels.saveRandomConvNet(wider, 10, 4, 3);
        try (Segsa s = Segsa.builder(wider, saFile).allowModelMismatch(true).open()) {
            SegsaException e = assertKind(Kind.SA_FILE, () -> score(s, 1));
            assertTrue(e.getMessage().contains("model returned 4 classes and 10 features, the SA model was fitted with 4 and 8"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("Segsa.Builder.allowModelMismatch(true)"), e.getMessage());
        }
    }

    @Test
    void lsaWithoutReferencesIsSaFileAndTheMessageNamesTheBuilderMethods() throws Exception {
        Path noRefs = dir.resolve("norefs.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            fit.addFolder(fixture.resolve("train/images"), fixture.resolve("train/labels"), 0, () -> {});
            SaModelFile.write(fit.finish(), noRefs);
        }
        SegsaException e = assertKind(Kind.SA_FILE, () -> Segsa.builder(model, noRefs).lsa(true).open());
        assertTrue(e.getMessage().contains("Segsa.Builder.lsa(true)") && e.getMessage().contains("SegsaFit.Builder.lsaReferences(0)")
                && e.getMessage().contains("--lsa-references 0"), e.getMessage());
    }

    static RiskModel riskModel(String modelSha, String saFingerprint, List<String> classes) {
        int n = RiskModel.inputs(RiskModel.HEAT_MAPS.size(), classes.size(), true);
        double[] ones = new double[n];
        Arrays.fill(ones, 1);
        double[] classWeights = new double[classes.size()];
        Arrays.fill(classWeights, 1);
        return new RiskModel(modelSha, saFingerprint, classes, RiskModel.HEAT_MAPS, true, true, new double[n], ones,
                new double[n + 1], new double[n + 1], List.of(), 0.5, classWeights);
    }

    @Test
    void aRiskModelForAnotherSaModelIsSaFile() {
        String sha = sa.settings().modelSha256();
        List<String> classes = sa.settings().classNames();
        SegsaException otherSa = assertKind(Kind.SA_FILE,
                () -> Segsa.builder(model, saFile).riskModel(riskModel(sha, "0123456789abcdef", classes)).open());
        assertTrue(otherSa.getMessage().contains("fitted with another SA model"), otherSa.getMessage());
        SegsaException otherModel = assertKind(Kind.SA_FILE,
                () -> Segsa.builder(model, saFile).riskModel(riskModel("fedcba9876543210", sa.fingerprint(), classes)).open());
        assertTrue(otherModel.getMessage().contains("fitted for the segmentation model"), otherModel.getMessage());
        // the risk model that belongs to it opens (segments run on the CPU path)
        Segsa.builder(model, saFile).backend("native-cpu").riskModel(riskModel(sha, sa.fingerprint(), classes)).open().close();
    }

    // ---- FRAME

    @Test
    void aBadFrameIsFrameAndTheEngineStaysUsable() {
        try (Segsa s = Segsa.open(model, saFile)) {
            byte[] rgb = rgb(1);
            assertKind(Kind.FRAME, () -> s.score(MemorySegment.ofArray(Arrays.copyOf(rgb, 10)), W, H, 3L * W, PixelFormat.RGB, "short"));
            assertKind(Kind.FRAME, () -> s.score(MemorySegment.ofArray(rgb), W, H, 3L * W - 1, PixelFormat.RGB, "stride"));
            assertKind(Kind.FRAME, () -> s.score(MemorySegment.ofArray(rgb), 100_000, 100_000, 300_000L, PixelFormat.RGB, "huge"));
            assertKind(Kind.FRAME, () -> s.scoreNormalized(new float[12], 16, 16, "chw"));
            score(s, 1);
        }
    }

    @Test
    void aFolderWithABadImageIsFrameAMissingFolderIsOther() throws Exception {
        Path images = dir.resolve("bad-images");
        Files.createDirectories(images);
        Files.copy(fixture.resolve("train/images").resolve(firstImage()), images.resolve("a.png"));
        Files.writeString(images.resolve("b.png"), "this is not a png");
        try (Segsa s = Segsa.open(model, saFile)) {
            SegsaException e = assertKind(Kind.FRAME, () -> s.scoreFolder(images, null, 0, (f, r) -> {}));
            assertTrue(e.getMessage().startsWith(images.resolve("b.png") + ": cannot decode"), e.getMessage());
            assertEquals(1, s.scoreFolder(images, null, 1, true, (f, r) -> {}).skipped().size());
            assertKind(Kind.OTHER, () -> s.scoreFolder(dir.resolve("no-such-folder"), null, 0, (f, r) -> {}));
            // a frame without its mask
            assertKind(Kind.FRAME, () -> s.scoreFolder(images, dir.resolve("no-masks"), 0, (f, r) -> {}));
        }
    }

    static String firstImage() throws Exception {
        try (var files = Files.list(fixture.resolve("train/images"))) {
            return files.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
    }

    @Test
    void aBadFrameOfAFitIsFrame() {
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            var image = SegsaTest.image(rgb(1), W, H);
            SegsaException size = assertKind(Kind.FRAME, () -> fit.add("a", image, new int[10], "a-mask"));
            assertTrue(size.getMessage().startsWith("a-mask: 10 labels for a 64x48 frame"), size.getMessage());
            int[] labels = new int[W * H];
            labels[5] = 7;
            assertKind(Kind.FRAME, () -> fit.add("a", image, labels, "a-mask"));
            fit.add("a", image, new int[W * H]);
            SegsaException twice = assertKind(Kind.FRAME, () -> fit.add("a", image, new int[W * H]));
            assertTrue(twice.getMessage().contains("frame 'a' was added to this fit before"), twice.getMessage());
            assertKind(Kind.FRAME, () -> fit.add(null, image, new int[W * H]));
            assertKind(Kind.FRAME, () -> fit.add("raw", MemorySegment.ofArray(new byte[10]), W, H, 3L * W, PixelFormat.RGB, new int[W * H]));
            fit.add("b", image, new int[W * H]);
        }
    }

    // ---- NATIVE

    @Test
    void aBackendThatCannotStartIsNative() {
        assumeFalse(Backends.cudaUsable(), "this machine can run the CUDA backend");
        SegsaException e = assertKind(Kind.NATIVE, () -> Segsa.builder(model, saFile).backend("cuda").open());
        assertTrue(e.getMessage().startsWith("backend cuda is unavailable"), e.getMessage());
        assertKind(Kind.NATIVE, () -> SegsaFit.builder(model).backend("cuda").open());
    }

    // ---- STOPPED

    @Test
    void aStopRequestIsStopped() {
        try (Segsa s = Segsa.open(model, saFile); SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            StopRequest.request("SIGTERM");
            try {
                assertKind(Kind.STOPPED, () -> score(s, 1));
                assertKind(Kind.STOPPED, () -> s.scoreFolder(fixture.resolve("train/images"), null, 0, true, (f, r) -> {}));
                assertKind(Kind.STOPPED, () -> fit.add("a", SegsaTest.image(rgb(1), W, H), new int[W * H]));
            } finally {
                StopRequest.clear();
            }
            score(s, 1);
        }
    }

    // ---- OTHER

    @Test
    void optionsAndConfigurationAreOther() {
        SegsaException backend = assertKind(Kind.OTHER, () -> Segsa.builder(model, saFile).backend("tpu").open());
        assertTrue(backend.getMessage().contains("unknown backend 'tpu'"), backend.getMessage());
        assertKind(Kind.OTHER, () -> SegsaFit.builder(model).backend("tpu").open());
        try (Segsa s = Segsa.open(model, saFile)) {
            SelectorConfig config = new SelectorConfig(List.of(new Trigger("x", Trigger.Score.CLASS_MDSA_P95, "Cyclist", 0, 1, 0)),
                    SelectorConfig.Combine.ANY, SelectorConfig.Budget.share(0.1), 0, 0, -1, 32);
            SegsaException e = assertKind(Kind.OTHER, () -> s.selector(config));
            assertTrue(e.getMessage().contains("'Cyclist' is not one of the SA model's classes"), e.getMessage());
        }
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            SegsaException e = assertKind(Kind.OTHER, fit::finish);
            assertTrue(e.getMessage().contains("no usable training frame"), e.getMessage());
            assertKind(Kind.OTHER, () -> fit.checkActivationTraces(List.of(), List.of(), 10, 0));
        }
    }

    @Test
    void builderArgumentsOutOfRangeAreIllegalArgumentsNamingTheMethod() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SegsaFit.builder(model).lsaReferences(-1));
        assertTrue(e.getMessage().startsWith("lsaReferences must be >= 0 (segsa fit: --lsa-references)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Segsa.builder(model, saFile).threads(-1));
        assertThrows(IllegalArgumentException.class, () -> Segsa.builder(model, saFile).lsaBudget(java.time.Duration.ofMillis(-1)));
    }

    // ---- closed

    @Test
    void afterCloseEveryCallIsAnIllegalStateException() {
        Segsa s = Segsa.open(model, saFile);
        s.close();
        assertThrows(IllegalStateException.class, () -> score(s, 1));
        assertThrows(IllegalStateException.class, () -> s.score(SegsaTest.image(rgb(1), W, H)));
        assertThrows(IllegalStateException.class, () -> s.scoreNormalized(new float[3 * W * H], W, H, "chw"));
        assertThrows(IllegalStateException.class, () -> s.outputSize(W, H));
        assertThrows(IllegalStateException.class, () -> s.scoreFolder(fixture.resolve("train/images"), null, 0, (f, r) -> {}));
        SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open();
        fit.close();
        assertThrows(IllegalStateException.class, () -> fit.add("a", SegsaTest.image(rgb(1), W, H), new int[W * H]));
    }
}
