package dev.segsa.train;

import dev.segsa.model.LibTorch;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.BoolType;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A compact encoder-decoder segmentation network defined as TorchScript from Java, following the
 * segsa model contract: {@code forward(x) -> (features [N,d,H/8,W/8], logits [N,C,H,W])}.
 *
 * <pre>
 * encoder  conv3x3/2 3->16, conv3x3/2 16->32, conv3x3 32->32 (1/4: skip), conv3x3/2 32->d,
 *          four residual blocks at 1/8 with dilations 1, 2, 4, 8 (two conv3x3 each)
 * head SKIP      features = the 1/8 map;
 *                logits = up(conv1x1(features)) + up(conv1x1(skip at 1/4))
 * head FEATURES  decoder: features = cbr(conv3x3(cat(up(1/8 map to 1/4), skip)) (d+32)->d) at 1/4;
 *                logits = up(conv1x1(features))
 * </pre>
 * Upsampling is bilinear, align_corners false. With {@link Head#FEATURES} the returned features
 * are the complete input of the pixel classifier (the paper's activation-trace contract: the class
 * scores are a per-pixel function of the features, upsampled); with {@link Head#SKIP} the logits
 * also see a 1/4-resolution path that the features do not contain.
 * Every conv is followed by batch norm and ReLU (functional, with running statistics as buffers).
 * Weights are initialised in Java (He normal) from a seed, so construction is deterministic.
 * The method {@code loss(x, target, weight, ignore_index)} returns the weighted cross-entropy
 * of the full-resolution logits.
 */
public final class CompactSegNet {
    public static final int[] DILATIONS = {1, 2, 4, 8};

    private CompactSegNet() {}

    /** Which layers feed the pixel classifier. */
    public enum Head {
        /** Logits from the 1/8 features plus a 1/4 skip path the features do not contain (the first models). */
        SKIP("skip", "features at 1/8; logits also see a 1/4 skip path"),
        /** Logits are a 1x1 convolution of the returned 1/4 features alone (a decoder sits before them). */
        FEATURES("features", "features at 1/4 after a decoder; logits are a 1x1 convolution of the features alone");

        private final String id;
        private final String description;

        Head(String id, String description) {
            this.id = id;
            this.description = description;
        }

        public String id() { return id; }

        public String description() { return description; }

        public static Head of(String id) {
            for (Head h : values()) if (h.id.equals(id)) return h;
            throw new IllegalArgumentException("unknown head '" + id + "': expected skip or features");
        }
    }

    private record Conv(String name, int out, int in, int k) {}

    private static List<Conv> convs(int d, Head head) {
        List<Conv> c = new ArrayList<>();
        c.add(new Conv("e0", 16, 3, 3));
        c.add(new Conv("e1", 32, 16, 3));
        c.add(new Conv("e2", 32, 32, 3));
        c.add(new Conv("e3", d, 32, 3));
        for (int b = 0; b < DILATIONS.length; b++) {
            c.add(new Conv("r" + b + "a", d, d, 3));
            c.add(new Conv("r" + b + "b", d, d, 3));
        }
        if (head == Head.FEATURES) c.add(new Conv("d0", d, d + 32, 3));
        return c;
    }

    static Tensor tensor(float[] v, long... shape) {
        try (FloatPointer p = new FloatPointer(v)) {
            return torch.from_blob(p, shape).clone();
        }
    }

    private static Tensor heNormal(SplittableRandom r, int out, int in, int k) {
        float[] w = new float[out * in * k * k];
        double s = Math.sqrt(2.0 / (in * k * k));
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * s);
        return tensor(w, out, in, k, k);
    }

    private static Tensor filled(int n, float value) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, value);
        return tensor(v, n);
    }

    /** A freshly initialised {@link Head#SKIP} network with {@code d} features and {@code classes} classes. */
    public static JitModule create(int d, int classes, long seed) {
        return create(d, classes, seed, Head.SKIP);
    }

    /** A freshly initialised network with {@code d} features, {@code classes} classes and the given head. */
    public static JitModule create(int d, int classes, long seed, Head head) {
        LibTorch.ensureLoaded();
        SplittableRandom r = new SplittableRandom(seed);
        JitModule m = new JitModule(new QualifiedName("__torch__.segsa.CompactSegNet"));
        for (Conv c : convs(d, head)) {
            m.register_parameter(c.name + "_w", heNormal(r, c.out, c.in, c.k), false);
            m.register_parameter(c.name + "_g", filled(c.out, 1f), false);
            m.register_parameter(c.name + "_b", filled(c.out, 0f), false);
            m.register_buffer(c.name + "_rm", filled(c.out, 0f));
            m.register_buffer(c.name + "_rv", filled(c.out, 1f));
        }
        float[] headW = new float[classes * d];
        for (int i = 0; i < headW.length; i++) headW[i] = (float) (r.nextGaussian() * Math.sqrt(1.0 / d));
        m.register_parameter("head_w", tensor(headW, classes, d, 1, 1), false);
        m.register_parameter("head_b", filled(classes, 0f), false);
        if (head == Head.SKIP) {
            float[] skip = new float[classes * 32];
            for (int i = 0; i < skip.length; i++) skip[i] = (float) (r.nextGaussian() * Math.sqrt(1.0 / 32));
            m.register_parameter("skip_w", tensor(skip, classes, 32, 1, 1), false);
        }
        m.register_attribute("training", new Type.TypePtr(BoolType.get().get()), new IValue(true), false, false);
        m.define(source(head));
        return m;
    }

    static String source(Head head) {
        StringBuilder s = new StringBuilder();
        s.append("""
                def cbr(self, x, w, g, b, rm, rv, stride: int, dil: int):
                    y = torch.conv2d(x, w, None, [stride, stride], [dil, dil], [dil, dil])
                    y = torch.batch_norm(y, g, b, rm, rv, self.training, 0.1, 1e-5, False)
                    return torch.relu(y)

                def bn(self, x, w, g, b, rm, rv, dil: int):
                    y = torch.conv2d(x, w, None, [1, 1], [dil, dil], [dil, dil])
                    return torch.batch_norm(y, g, b, rm, rv, self.training, 0.1, 1e-5, False)

                def forward(self, x):
                    h = self.cbr(x, self.e0_w, self.e0_g, self.e0_b, self.e0_rm, self.e0_rv, 2, 1)
                    h = self.cbr(h, self.e1_w, self.e1_g, self.e1_b, self.e1_rm, self.e1_rv, 2, 1)
                    skip = self.cbr(h, self.e2_w, self.e2_g, self.e2_b, self.e2_rm, self.e2_rv, 1, 1)
                    f = self.cbr(skip, self.e3_w, self.e3_g, self.e3_b, self.e3_rm, self.e3_rv, 2, 1)
                """);
        for (int b = 0; b < DILATIONS.length; b++) {
            String a = "r" + b + "a", c = "r" + b + "b";
            int dil = DILATIONS[b];
            s.append("    t = self.cbr(f, self.").append(a).append("_w, self.").append(a).append("_g, self.").append(a)
                    .append("_b, self.").append(a).append("_rm, self.").append(a).append("_rv, 1, ").append(dil).append(")\n");
            s.append("    f = torch.relu(f + self.bn(t, self.").append(c).append("_w, self.").append(c).append("_g, self.").append(c)
                    .append("_b, self.").append(c).append("_rm, self.").append(c).append("_rv, ").append(dil).append("))\n");
        }
        if (head == Head.SKIP) {
            s.append("""
                        size = [x.size(2), x.size(3)]
                        low = torch.conv2d(f, self.head_w, self.head_b)
                        mid = torch.conv2d(skip, self.skip_w)
                        logits = torch.upsample_bilinear2d(low, size, False) + torch.upsample_bilinear2d(mid, size, False)
                        return (f, logits)
                    """);
        } else {
            s.append("""
                        quarter = [skip.size(2), skip.size(3)]
                        u = torch.cat([torch.upsample_bilinear2d(f, quarter, False), skip], 1)
                        f = self.cbr(u, self.d0_w, self.d0_g, self.d0_b, self.d0_rm, self.d0_rv, 1, 1)
                        size = [x.size(2), x.size(3)]
                        logits = torch.upsample_bilinear2d(torch.conv2d(f, self.head_w, self.head_b), size, False)
                        return (f, logits)
                    """);
        }
        s.append("""

                def loss(self, x, target, weight, ignore_index: int):
                    out = self.forward(x)
                    return torch.cross_entropy_loss(out[1], target, weight, 1, ignore_index, 0.0)
                """);
        return s.toString();
    }
}
