package dev.segsa.model;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;

/** Small TorchScript models defined and saved from Java for tests. */
public final class TestModels {
    private TestModels() {}

    public static Tensor tensor(float[] values, long... shape) {
        try (FloatPointer p = new FloatPointer(values)) {
            return torch.from_blob(p, shape).clone();
        }
    }

    /**
     * The end-to-end fixture's model (tools/golden/e2e.py): avg_pool 4, features = [f, f*f,
     * tanh(conv1x1(f))] (d = 10), logits = conv1x1(features) at low resolution.
     */
    public static void saveFixtureModel(Path out, float[] w1, float[] b1, float[] w2, float[] b2, int classes) {
        LibTorch.ensureLoaded();
        JitModule m = new JitModule(new QualifiedName("__torch__.SegsaFixtureModel"));
        m.register_parameter("w1", tensor(w1, 4, 3, 1, 1), false);
        m.register_parameter("b1", tensor(b1, 4), false);
        m.register_parameter("w2", tensor(w2, classes, 10, 1, 1), false);
        m.register_parameter("b2", tensor(b2, classes), false);
        m.define("""
                def forward(self, x):
                    f = torch.avg_pool2d(x, [4, 4])
                    h = torch.tanh(torch.conv2d(f, self.w1, self.b1))
                    feats = torch.cat([f, f * f, h], 1)
                    logits = torch.conv2d(feats, self.w2, self.b2)
                    return (feats, logits)
                """);
        m.save(out.toString());
    }

    /** A model whose forward is the given TorchScript body over input x (for contract-violation tests). */
    public static void saveScript(Path out, String forwardBody) {
        LibTorch.ensureLoaded();
        JitModule m = new JitModule(new QualifiedName("__torch__.SegsaScriptModel"));
        m.define("def forward(self, x):\n" + forwardBody.indent(4));
        m.save(out.toString());
    }

    /**
     * A small random convolutional segmentation net (stride 8, d features, C classes) with seeded
     * weights, for real-data tests: conv 3->8 s2, conv 8->16 s2, conv 16->d s2, ReLU between,
     * logits = conv1x1(d->C).
     */
    public static void saveRandomConvNet(Path out, int d, int classes, long seed) {
        LibTorch.ensureLoaded();
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        JitModule m = new JitModule(new QualifiedName("__torch__.SegsaRandomConvNet"));
        int[][] shapes = {{8, 3}, {16, 8}, {d, 16}};
        for (int i = 0; i < 3; i++) {
            int o = shapes[i][0], in = shapes[i][1];
            float[] w = new float[o * in * 9];
            double s = Math.sqrt(2.0 / (in * 9));
            for (int k = 0; k < w.length; k++) w[k] = (float) (r.nextGaussian() * s);
            float[] b = new float[o];
            for (int k = 0; k < o; k++) b[k] = (float) (r.nextGaussian() * 0.1);
            m.register_parameter("w" + i, tensor(w, o, in, 3, 3), false);
            m.register_parameter("b" + i, tensor(b, o), false);
        }
        float[] wc = new float[classes * d];
        for (int k = 0; k < wc.length; k++) wc[k] = (float) (r.nextGaussian() / Math.sqrt(d));
        m.register_parameter("wc", tensor(wc, classes, d, 1, 1), false);
        m.register_parameter("bc", tensor(new float[classes], classes), false);
        m.define("""
                def forward(self, x):
                    h = torch.relu(torch.conv2d(x, self.w0, self.b0, [2, 2], [1, 1]))
                    h = torch.relu(torch.conv2d(h, self.w1, self.b1, [2, 2], [1, 1]))
                    f = torch.tanh(torch.conv2d(h, self.w2, self.b2, [2, 2], [1, 1]))
                    logits = torch.conv2d(f, self.wc, self.bc)
                    return (f, logits)
                """);
        m.save(out.toString());
    }
}
