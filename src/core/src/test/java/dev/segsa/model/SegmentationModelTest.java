package dev.segsa.model;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class SegmentationModelTest {
    @TempDir
    Path dir;

    private static float[] frame(int h, int w) {
        float[] x = new float[3 * h * w];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37);
        return x;
    }

    @Test
    void randomConvNetFollowsContract() {
        Path p = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(p, 16, 5, 1);
        try (SegmentationModel m = SegmentationModel.load(p, UpsampleMode.BILINEAR);
             PointerScope scope = new PointerScope()) {
            FrameOutput out = m.infer(frame(36, 48), 36, 48, "frame");
            assertEquals(16, out.features().d());
            assertEquals(5, out.features().h0());
            assertEquals(6, out.features().w0());
            assertEquals(5, out.classes());
            assertEquals(36 * 48, out.predictedArray().length);
            assertTrue(Arrays.stream(out.predictedArray()).allMatch(c -> c >= 0 && c < 5));
            assertEquals(0, out.features().countNonFinite());
            assertEquals(0, out.nonFiniteFeatures());
            assertEquals(36 * 48, Arrays.stream(out.classPixels()).sum());
        }
    }

    private SegsaException refusal(String body) {
        Path p = dir.resolve("bad.pt");
        TestModels.saveScript(p, body);
        try (SegmentationModel m = SegmentationModel.load(p, UpsampleMode.BILINEAR);
             PointerScope scope = new PointerScope()) {
            return assertThrows(SegsaException.class, () -> m.infer(frame(16, 16), 16, 16, "frame"));
        }
    }

    @Test
    void singleTensorIsRefused() {
        SegsaException e = refusal("return x");
        assertTrue(e.getMessage().contains("expected a tuple (features"), e.getMessage());
        assertTrue(e.getMessage().contains("a single tensor of shape [1, 3, 16, 16]"), e.getMessage());
        assertTrue(e.getMessage().contains("bad.pt"), e.getMessage());
    }

    @Test
    void dictWithoutKeysIsRefused() {
        SegsaException e = refusal("return {'a': x, 'b': x}");
        assertTrue(e.getMessage().contains("\"features\" and \"logits\""), e.getMessage());
    }

    @Test
    void dictWithKeysIsAccepted() {
        Path p = dir.resolve("dict.pt");
        TestModels.saveScript(p, "f = torch.avg_pool2d(x, [4, 4])\nreturn {'features': f, 'logits': f[:, 0:2]}");
        try (SegmentationModel m = SegmentationModel.load(p, UpsampleMode.NEAREST);
             PointerScope scope = new PointerScope()) {
            FrameOutput out = m.infer(frame(16, 16), 16, 16, "frame");
            assertEquals(3, out.features().d());
            assertEquals(2, out.classes());
        }
    }

    @Test
    void wrongRankIsRefused() {
        SegsaException e = refusal("f = torch.avg_pool2d(x, [4, 4])\nreturn (f[0], f)");
        assertTrue(e.getMessage().contains("rank 4"), e.getMessage());
    }

    @Test
    void logitsOfAnotherSizeAreRefused() {
        SegsaException e = refusal("f = torch.avg_pool2d(x, [4, 4])\nreturn (f, torch.avg_pool2d(x, [2, 2]))");
        assertTrue(e.getMessage().contains("logits at the feature size 4x4 or at the input size 16x16"), e.getMessage());
    }

    @Test
    void truncatedModelIsRefusedNamingTheFile() throws Exception {
        Path p = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(p, 8, 3, 1);
        byte[] bytes = Files.readAllBytes(p);
        Path cut = dir.resolve("cut.pt");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        SegsaException e = assertThrows(SegsaException.class, () -> SegmentationModel.load(cut, UpsampleMode.BILINEAR));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a loadable TorchScript model"), e.getMessage());
    }

    @Test
    void missingModelIsRefused() {
        SegsaException e = assertThrows(SegsaException.class,
                () -> SegmentationModel.load(dir.resolve("nope.pt"), UpsampleMode.BILINEAR));
        assertTrue(e.getMessage().contains("model file not found"));
    }

    @Test
    void optimizedModelIsCheckedOnTheFirstFrameThenUsed() {
        Path p = dir.resolve("opt.pt");
        TestModels.saveRandomConvNet(p, 16, 5, 3);
        float[] x = frame(48, 64);
        int[] plain;
        try (SegmentationModel m = SegmentationModel.load(p, UpsampleMode.BILINEAR); PointerScope scope = new PointerScope()) {
            plain = m.infer(x, 48, 64, "frame").predictedArray();
        }
        try (SegmentationModel m = SegmentationModel.load(p, UpsampleMode.BILINEAR)) {
            m.optimizeForInference();
            assertEquals(null, m.optimizationReport());
            for (int i = 0; i < 3; i++) {
                try (PointerScope scope = new PointerScope()) {
                    FrameOutput out = m.infer(x, 48, 64, "frame");
                    // the first frame comes from the original module; later ones from the optimised one, checked equal
                    int[] got = out.predictedArray();
                    long differ = 0;
                    for (int k = 0; k < got.length; k++) if (got[k] != plain[k]) differ++;
                    assertTrue(differ <= got.length / 1000, differ + " pixels changed class");
                }
            }
            String report = m.optimizationReport();
            assertTrue(report != null && report.contains("features max abs difference") && report.contains("logits"), report);
        }
    }
}
