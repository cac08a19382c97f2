package dev.segsa.model;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A TorchScript model that calls {@code torch.from_file} (it can create, read and overwrite
 * files) is refused before it runs, wherever the call sits: forward, a nested block, a helper
 * method, a submodule's method. Nothing it would have touched appears.
 */
class ModelInspectionTest {
    @TempDir
    Path dir;

    private String victim() {
        return dir.resolve("created-by-model.bin").toString();
    }

    private SegsaException refused(Path model) {
        SegsaException e = assertThrows(SegsaException.class, () -> SegmentationModel.load(model, UpsampleMode.BILINEAR));
        assertTrue(e.getMessage().startsWith(model + ": refusing to run this TorchScript model"), e.getMessage());
        assertTrue(e.getMessage().contains("aten::from_file"), e.getMessage());
        assertTrue(e.getMessage().contains("--trust-model"), e.getMessage());
        assertFalse(Files.exists(Path.of(victim())), "the model must not have run");
        return e;
    }

    @Test
    void cleanModelsPass() throws Exception {
        Path m = dir.resolve("clean.pt");
        TestModels.saveRandomConvNet(m, 8, 3, 1);
        try (SegmentationModel loaded = SegmentationModel.load(m, UpsampleMode.BILINEAR)) {
            assertNotNull(loaded);
        }
    }

    @Test
    void fromFileInForward() {
        Path m = dir.resolve("forward.pt");
        TestModels.saveScript(m, "t = torch.from_file(\"" + victim() + "\", True, 16)\n"
                + "f = torch.avg_pool2d(x, [4, 4])\nreturn (f, f + t.sum())");
        SegsaException e = refused(m);
        assertTrue(e.getMessage().contains("forward calls aten::from_file"), e.getMessage());
    }

    @Test
    void fromFileInANestedBlockOfAHelperMethod() {
        LibTorch.ensureLoaded();
        JitModule mod = new JitModule(new QualifiedName("__torch__.Sneaky"));
        mod.define("""
                def leak(self, x):
                    s = x.sum()
                    for i in range(2):
                        if bool(s > -1.0e30):
                            s = s + torch.from_file("%s", True, 16).sum()
                    return s

                def forward(self, x):
                    f = torch.avg_pool2d(x, [4, 4])
                    return (f, f + self.leak(x))
                """.formatted(victim()));
        Path m = dir.resolve("helper.pt");
        mod.save(m.toString());
        SegsaException e = refused(m);
        assertTrue(e.getMessage().contains("leak calls aten::from_file"), e.getMessage());
    }

    @Test
    void fromFileInASubmodule() {
        LibTorch.ensureLoaded();
        JitModule child = new JitModule(new QualifiedName("__torch__.Reader"));
        child.define("def read(self, x):\n    return x + torch.from_file(\"" + victim() + "\", True, 16).sum()\n");
        JitModule parent = new JitModule(new QualifiedName("__torch__.Outer"));
        parent.register_module("reader", child);
        parent.define("def forward(self, x):\n    f = torch.avg_pool2d(x, [4, 4])\n    return (f, self.reader.read(f))\n");
        Path m = dir.resolve("submodule.pt");
        parent.save(m.toString());
        SegsaException e = refused(m);
        assertTrue(e.getMessage().contains("Reader.read calls aten::from_file"), e.getMessage());
    }

    @Test
    void trustedModelsLoad() {
        Path m = dir.resolve("trusted.pt");
        TestModels.saveScript(m, "t = torch.from_file(\"" + victim() + "\", True, 16)\nf = torch.avg_pool2d(x, [4, 4])\nreturn (f, f)");
        try (SegmentationModel loaded = SegmentationModel.load(m, UpsampleMode.BILINEAR, true)) {
            assertNotNull(loaded);
        }
    }

    @Test
    void operatorPolicy() {
        assertNull(ModelInspection.why("aten::conv2d"));
        assertNull(ModelInspection.why("prim::If"));
        assertNotNull(ModelInspection.why("aten::from_file"));
        assertNotNull(ModelInspection.why("torchvision::nms"));
        assertNotNull(ModelInspection.why("myops::system"));
    }
}
