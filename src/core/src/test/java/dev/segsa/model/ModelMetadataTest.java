package dev.segsa.model;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.ExtraFilesMap;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ModelMetadataTest {
    @TempDir
    Path dir;

    private Path modelWithArchivedMetadata(String json) {
        LibTorch.ensureLoaded();
        Path p = dir.resolve("net.pt");
        JitModule m = new JitModule(new QualifiedName("__torch__.MetaModel"));
        m.define("def forward(self, x):\n    f = torch.avg_pool2d(x, [2, 2])\n    return (f, f)\n");
        ExtraFilesMap extra = new ExtraFilesMap();
        extra.put(new BytePointer("segsa.json"), json);
        m.save(p.toString(), extra);
        return p;
    }

    @Test
    void readsMetadataFromTheTorchScriptArchive() {
        Path p = modelWithArchivedMetadata("{\"mean\": [0.1, 0.2, 0.3], \"upsample\": \"nearest\", \"classNames\": [\"a\", \"b\", \"c\"], \"ignoreLabel\": 7}");
        ModelMetadata m = ModelMetadata.read(p);
        assertArrayEquals(new double[] {0.1, 0.2, 0.3}, m.mean());
        assertEquals(UpsampleMode.NEAREST, m.upsample());
        assertEquals(List.of("a", "b", "c"), m.classNames());
        assertEquals(7, m.ignoreLabel());
        assertNull(m.std());
    }

    @Test
    void sidecarWinsOverArchiveAndFlagsWinOverBoth() throws Exception {
        Path p = modelWithArchivedMetadata("{\"mean\": [0.1, 0.2, 0.3], \"std\": [2, 2, 2], \"upsample\": \"nearest\"}");
        Files.writeString(dir.resolve("net.segsa.json"), "{\"std\": [3, 3, 3], \"resize\": [64, 48]}");
        ModelMetadata m = ModelMetadata.read(p);
        assertArrayEquals(new double[] {3, 3, 3}, m.std());
        assertArrayEquals(new double[] {0.1, 0.2, 0.3}, m.mean());
        assertArrayEquals(new int[] {64, 48}, m.resize());
        ModelMetadata flags = new ModelMetadata(null, new double[] {4, 4, 4}, UpsampleMode.BILINEAR, null, null, null);
        ModelSettings s = ModelSettings.resolve(flags, m);
        assertArrayEquals(new double[] {4, 4, 4}, s.std());
        assertEquals(UpsampleMode.BILINEAR, s.upsample());
        assertEquals(255, s.ignoreLabel());
        assertEquals(List.of("0", "1"), s.classNamesFor(2));
    }

    @Test
    void defaultsWithoutMetadata() {
        ModelSettings s = ModelSettings.resolve(ModelMetadata.empty(), ModelMetadata.empty());
        assertArrayEquals(new double[] {0, 0, 0}, s.mean());
        assertArrayEquals(new double[] {1, 1, 1}, s.std());
        assertEquals(UpsampleMode.BILINEAR, s.upsample());
        assertNull(s.resize());
    }

    @Test
    void badSidecarNamesTheFile() throws Exception {
        Path p = modelWithArchivedMetadata("{}");
        Path side = dir.resolve("net.segsa.json");
        Files.writeString(side, "{\"mean\": [1, 2]}");
        SegsaException e = assertThrows(SegsaException.class, () -> ModelMetadata.read(p));
        assertTrue(e.getMessage().startsWith(side.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("'mean' must be an array of 3 numbers"), e.getMessage());
        Files.writeString(side, "{not json");
        e = assertThrows(SegsaException.class, () -> ModelMetadata.read(p));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void jsonRoundTrip() {
        ModelMetadata m = new ModelMetadata(new double[] {0.5, 0.5, 0.5}, new double[] {0.25, 0.25, 0.25},
                UpsampleMode.BILINEAR_ALIGNED, List.of("x", "y"), 11, new int[] {480, 360});
        ModelMetadata back = ModelMetadata.parse(m.toJson(), "test");
        assertArrayEquals(m.mean(), back.mean());
        assertArrayEquals(m.std(), back.std());
        assertEquals(m.upsample(), back.upsample());
        assertEquals(m.classNames(), back.classNames());
        assertEquals(m.ignoreLabel(), back.ignoreLabel());
        assertArrayEquals(m.resize(), back.resize());
    }
}
