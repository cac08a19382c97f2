package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.model.LibTorch;
import dev.segsa.model.TestModels;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.ExtraFilesMap;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The hostile-input catalogue (docs/reliability.md lists it): each case builds a fresh work folder
 * (the e2e fixture's frames and masks, its model and a fitted SA file), makes one input hostile,
 * runs one command and checks the exit status, a fragment of the one-line message, that no
 * stack trace was printed, that the output did not appear (or, for the cases that must succeed,
 * did), and that every file in the work folder other than the output is byte-identical afterwards.
 */
class HostileInputCatalogueTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static Path fixture, model, goodSa, goodScores;

    /** A work folder: images/, labels/, model.pt, good.sa, scores.csv; out is the output path of the case. */
    record Work(Path dir, Path images, Path labels, Path model, Path sa, Path scores, Path out) {
        String s(Path p) {
            return p.toString();
        }
    }

    @FunctionalInterface
    interface Setup {
        String[] args(Work w) throws Exception;
    }

    /**
     * @param outcome what must happen: EXIT code, OUTPUT whether the output must exist afterwards
     */
    record Case(String name, int exit, boolean outputExpected, Setup setup, String... fragments) {}

    @BeforeAll
    static void fixtures() throws Exception {
        fixture = Path.of(HostileInputCatalogueTest.class.getResource("/e2e").toURI());
        JsonNode m = JSON.readTree(fixture.resolve("model.json").toFile());
        model = shared.resolve("model.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), m.get("classes").asInt());
        goodSa = shared.resolve("good.sa");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", fixture.resolve("train/images").toString(),
                "--labels", fixture.resolve("train/labels").toString(), "--out", goodSa.toString(), "--lsa-references", "50"));
        goodScores = shared.resolve("scores.csv");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", goodSa.toString(), "--images",
                fixture.resolve("val/images").toString(), "--labels", fixture.resolve("val/labels").toString(), "--out",
                goodScores.toString()));
    }

    static Work work(Path dir, String outName) throws IOException {
        Path images = dir.resolve("images"), labels = dir.resolve("labels");
        copyDir(fixture.resolve("train/images"), images);
        copyDir(fixture.resolve("train/labels"), labels);
        Files.copy(model, dir.resolve("model.pt"));
        Files.copy(goodSa, dir.resolve("good.sa"));
        Files.copy(goodScores, dir.resolve("scores.csv"));
        return new Work(dir, images, labels, dir.resolve("model.pt"), dir.resolve("good.sa"), dir.resolve("scores.csv"),
                dir.resolve(outName));
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
    }

    static String[] fit(Work w, String... extra) {
        return concat(new String[] {"fit", "--model", w.s(w.model()), "--images", w.s(w.images()), "--labels", w.s(w.labels()),
                "--out", w.s(w.out())}, extra);
    }

    static String[] score(Work w, String... extra) {
        return concat(new String[] {"score", "--model", w.s(w.model()), "--sa", w.s(w.sa()), "--images", w.s(w.images()),
                "--out", w.s(w.out())}, extra);
    }

    /** {@code args} with the value of {@code option} replaced (picocli refuses a repeated option). */
    static String[] with(String[] args, String option, String value) {
        String[] out = args.clone();
        for (int i = 0; i < out.length - 1; i++) {
            if (out[i].equals(option)) {
                out[i + 1] = value;
                return out;
            }
        }
        return concat(out, option, value);
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A model whose forward is {@code body} over x, in the work folder. */
    static Path script(Work w, String name, String body) {
        Path p = w.dir().resolve(name);
        TestModels.saveScript(p, body);
        return p;
    }

    static String[] fitWith(Work w, Path otherModel, String... extra) {
        return concat(new String[] {"fit", "--model", w.s(otherModel), "--images", w.s(w.images()), "--labels", w.s(w.labels()),
                "--out", w.s(w.out())}, extra);
    }

    static String[] scoreWith(Work w, Path otherModel, String... extra) {
        return concat(new String[] {"score", "--model", w.s(otherModel), "--sa", w.s(w.sa()), "--images", w.s(w.images()),
                "--out", w.s(w.out()), "--allow-model-mismatch"}, extra);
    }

    static void gray(Path file, int w, int h, int value) throws IOException {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = new byte[w * h];
        Arrays.fill(px, (byte) value);
        img.getRaster().setDataElements(0, 0, w, h, px);
        ImageIO.write(img, "png", file.toFile());
    }

    /** A valid PNG header (IHDR with a correct CRC) declaring width x height, and no pixel data. */
    static byte[] pngDeclaring(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0)
                .put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update("IHDR".getBytes(StandardCharsets.US_ASCII));
        crc.update(ihdr.array());
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).put(ihdr.array()).putInt((int) crc.getValue());
        b.putInt(0).put("IEND".getBytes(StandardCharsets.US_ASCII)).putInt(0xAE426082);
        return b.array();
    }

    /** A 4-component (CMYK-like) JPEG written by ImageIO from a 4-band raster. */
    static void cmykJpeg(Path file, int w, int h) throws IOException {
        WritableRaster r = Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int b = 0; b < 4; b++) r.setSample(x, y, b, (x * 7 + y * 3 + b * 50) & 0xff);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(r, null, null), null);
        } finally {
            writer.dispose();
        }
    }

    /** Rewrites an SA file: its JSON header through {@code header}, the body bytes through {@code body}, with a correct CRC. */
    static void rewriteSa(Path from, Path to, UnaryOperator<ObjectNode> header, UnaryOperator<byte[]> body) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(from)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = b.getInt(12);
        byte[] h = Arrays.copyOfRange(b.array(), 16, 16 + headerLen);
        byte[] rest = Arrays.copyOfRange(b.array(), 16 + headerLen, b.limit() - 8);
        byte[] newHeader = JSON.writeValueAsBytes(header.apply((ObjectNode) JSON.readTree(h)));
        byte[] newBody = body.apply(rest);
        ByteBuffer o = ByteBuffer.allocate(16 + newHeader.length + newBody.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        o.put(b.array(), 0, 12).putInt(newHeader.length).put(newHeader).put(newBody);
        CRC32C crc = new CRC32C();
        crc.update(o.array(), 0, o.position());
        o.putLong(crc.getValue());
        Files.write(to, o.array());
    }

    /** The model with an archive entry extra/segsa.json of {@code json}. */
    static void modelWithMetadata(Path to, String json) {
        LibTorch.ensureLoaded();
        JitModule m = torch.load(model.toString());
        ExtraFilesMap extra = new ExtraFilesMap();
        extra.put(new BytePointer("segsa.json"), json);
        m.save(to.toString(), extra);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // ---- corrupt, odd or oversized frames and masks
        c.add(new Case("fit: text instead of a PNG", 1, false, w -> {
            Files.writeString(w.images().resolve("f001.png"), "this is not a png");
            return fit(w);
        }, "f001.png", "cannot decode image"));
        c.add(new Case("fit: truncated PNG", 1, false, w -> {
            Path f = w.images().resolve("f002.png");
            byte[] b = Files.readAllBytes(f);
            Files.write(f, Arrays.copyOf(b, b.length / 2));
            return fit(w);
        }, "f002.png", "cannot decode image"));
        c.add(new Case("fit: empty image file", 1, false, w -> {
            Files.write(w.images().resolve("f000.png"), new byte[0]);
            return fit(w);
        }, "f000.png", "cannot decode image"));
        c.add(new Case("fit: a 57-byte PNG declaring 40000x40000 pixels", 1, false, w -> {
            Files.write(w.images().resolve("f000.png"), pngDeclaring(40000, 40000));
            return fit(w);
        }, "f000.png", "declares 40000x40000", "above the limit"));
        c.add(new Case("score: --max-pixels below the frame size", 1, false, w -> score(w, "--max-pixels", "100"),
                "declares 32x24", "--max-pixels"));
        c.add(new Case("fit: CMYK JPEG", 1, false, w -> {
            Files.delete(w.images().resolve("f000.png"));
            cmykJpeg(w.images().resolve("f000.jpg"), 32, 24);
            return fit(w);
        }, "f000.jpg", "CMYK"));
        c.add(new Case("fit: missing mask", 1, false, w -> {
            Files.delete(w.labels().resolve("f002.png"));
            return fit(w);
        }, "f002.png", "no label file"));
        c.add(new Case("fit: mask of another size", 1, false, w -> {
            gray(w.labels().resolve("f000.png"), 31, 24, 0);
            return fit(w);
        }, "label mask is 31x24 but frame f000.png is 32x24"));
        c.add(new Case("fit: class id out of range", 1, false, w -> {
            gray(w.labels().resolve("f003.png"), 32, 24, 7);
            return fit(w);
        }, "f003.png", "has label 7 but the model has 4 classes"));
        c.add(new Case("fit: colour mask", 1, false, w -> {
            ImageIO.write(new java.awt.image.BufferedImage(32, 24, java.awt.image.BufferedImage.TYPE_INT_RGB), "png",
                    w.labels().resolve("f003.png").toFile());
            return fit(w);
        }, "f003.png", "8-bit single-channel"));
        c.add(new Case("fit: no images", 1, false, w -> {
            try (Stream<Path> s = Files.list(w.images())) {
                for (Path p : s.toList()) Files.delete(p);
            }
            return fit(w);
        }, "no image files"));
        c.add(new Case("fit: images folder missing", 1, false, w -> with(fit(w), "--images", w.s(w.dir().resolve("nowhere"))),
                "images directory not found"));
        c.add(new Case("score: class id out of range in a mask", 1, false, w -> {
            gray(w.labels().resolve("f001.png"), 32, 24, 9);
            return score(w, "--labels", w.s(w.labels()));
        }, "f001.png", "has label 9"));
        c.add(new Case("score: --skip-bad-frames scores the rest, lists the bad one, exits 5", 5, true, w -> {
            Files.writeString(w.images().resolve("f001.png"), "garbage");
            return score(w, "--skip-bad-frames");
        }, "skipped 1 of 4 frames", "f001.png: "));
        c.add(new Case("score: --skip-bad-frames --allow-skipped exits 0", 0, true, w -> {
            Files.writeString(w.images().resolve("f001.png"), "garbage");
            return score(w, "--skip-bad-frames", "--allow-skipped");
        }, "skipped 1 of 4 frames"));
        c.add(new Case("fit: --skip-bad-frames past a bad mask", 5, true, w -> {
            gray(w.labels().resolve("f003.png"), 32, 24, 7);
            return fit(w, "--skip-bad-frames");
        }, "skipped 1 of 4 frames", "has label 7"));

        // ---- hostile or broken models
        c.add(new Case("fit: truncated model", 1, false, w -> {
            byte[] b = Files.readAllBytes(w.model());
            Files.write(w.model(), Arrays.copyOf(b, b.length / 3));
            return fit(w);
        }, "model.pt", "not a loadable TorchScript model"));
        c.add(new Case("fit: model file missing", 1, false, w -> {
            Files.delete(w.model());
            return fit(w);
        }, "model.pt", "model file not found"));
        c.add(new Case("fit: a model that maps a file (torch.from_file) is refused before it runs", 1, false, w -> {
            Path victim = w.dir().resolve("victim.bin");
            Path m = script(w, "reader.pt", "t = torch.from_file(\"" + victim + "\", True, 64)\n"
                    + "f = torch.avg_pool2d(x, [4, 4])\nreturn (f, f + t.sum())");
            return fitWith(w, m);
        }, "refusing to run", "aten::from_file", "--trust-model"));
        c.add(new Case("score: a model that overwrites the SA file through from_file is refused", 1, false, w -> {
            // maps the SA file shared and zeroes its first bytes (the result is used, so it is not dead code)
            Path m = script(w, "writer.pt", "t = torch.from_file(\"" + w.sa() + "\", True, 8)\nt.fill_(0.0)\n"
                    + "f = torch.avg_pool2d(x, [4, 4]) + t.sum()\nh = torch.tanh(f)\n"
                    + "feats = torch.cat([f, f * f, h, h[:, 0:1]], 1)\nreturn (feats, feats[:, 0:4])");
            return scoreWith(w, m);
        }, "refusing to run", "aten::from_file"));
        c.add(new Case("fit: model returns a single tensor", 1, false, w -> fitWith(w, script(w, "single.pt",
                "return torch.avg_pool2d(x, [4, 4])")), "does not follow the segsa contract", "a single tensor of shape [1, 3, 6, 8]"));
        c.add(new Case("fit: model returns a dict without the keys", 1, false, w -> fitWith(w, script(w, "dict.pt",
                "f = torch.avg_pool2d(x, [4, 4])\nreturn {\"a\": f}")), "keys \"features\" and \"logits\""));
        c.add(new Case("fit: zero feature channels", 1, false, w -> fitWith(w, script(w, "zero.pt",
                "f = torch.avg_pool2d(x, [4, 4])\nreturn (f[:, 0:0], f)")), "feature channels"));
        c.add(new Case("fit: 8,193 feature channels", 1, false, w -> fitWith(w, script(w, "wide.pt",
                "f = torch.avg_pool2d(x, [4, 4])\nreturn (f.repeat(1, 2731, 1, 1), f)")), "between 1 and 4096 feature channels"));
        c.add(new Case("fit: 0x0 outputs", 1, false, w -> fitWith(w, script(w, "empty.pt",
                "f = torch.avg_pool2d(x, [4, 4])[:, :, 0:0, 0:0]\nreturn (f, f)")), "at least 1x1"));
        c.add(new Case("fit: meta-device features", 1, false, w -> fitWith(w, script(w, "meta.pt",
                "f = torch.avg_pool2d(x, [4, 4])\nreturn (torch.empty([1, 3, 6, 8], device=torch.device(\"meta\")), f)")),
                "meta tensor"));
        c.add(new Case("fit: sparse features", 1, false, w -> fitWith(w, script(w, "sparse.pt",
                "f = torch.avg_pool2d(x, [4, 4])\nreturn (f.to_sparse(), f)")), "dense features"));
        c.add(new Case("fit: forward raises, the model's message is kept", 1, false, w -> fitWith(w, script(w, "raises.pt",
                "assert bool(x.sum() < -1.0e30), \"camera calibration missing\"\nreturn (x, x)")),
                "forward failed", "camera calibration missing"));
        c.add(new Case("fit: NaN features in every frame", 1, false, w -> fitWith(w, script(w, "nan.pt",
                "f = torch.log(torch.avg_pool2d(x, [4, 4]) - 100.0)\nreturn (f, torch.cat([f, f[:, 0:1]], 1))")),
                "NaN/Inf feature values", "no usable training frame"));
        c.add(new Case("score: NaN logits in every frame: nothing scored is a failure", 1, false, w -> scoreWith(w,
                script(w, "nanlogits.pt", "f = torch.avg_pool2d(x, [4, 4])\nh = torch.tanh(f)\n"
                        + "feats = torch.cat([f, f * f, h, h[:, 0:1]], 1)\nreturn (feats, torch.log(f[:, 0:4].repeat(1, 2, 1, 1)[:, 0:4] - 100.0))")),
                "no frame could be scored"));
        c.add(new Case("score: another model than the SA file's", 1, false, w -> {
            Path other = w.dir().resolve("other.pt");
            TestModels.saveRandomConvNet(other, 10, 4, 3);
            return concat(new String[] {"score", "--model", w.s(other), "--sa", w.s(w.sa()), "--images", w.s(w.images()),
                    "--out", w.s(w.out())});
        }, "fitted with model model.pt", "--allow-model-mismatch"));

        // ---- metadata
        c.add(new Case("fit: sidecar mean of strings", 1, false, w -> {
            Files.writeString(w.dir().resolve("model.segsa.json"), "{\"mean\": [\"a\", \"b\", \"c\"]}");
            return fit(w);
        }, "model.segsa.json", "'mean' must be an array of 3 finite numbers"));
        c.add(new Case("fit: sidecar ignoreLabel \"eleven\"", 1, false, w -> {
            Files.writeString(w.dir().resolve("model.segsa.json"), "{\"ignoreLabel\": \"eleven\"}");
            return fit(w);
        }, "model.segsa.json", "'ignoreLabel' must be an integer"));
        c.add(new Case("fit: sidecar resize of strings", 1, false, w -> {
            Files.writeString(w.dir().resolve("model.segsa.json"), "{\"resize\": [\"64\", 48]}");
            return fit(w);
        }, "'resize' must be [width, height]"));
        c.add(new Case("fit: sidecar not JSON", 1, false, w -> {
            Files.writeString(w.dir().resolve("model.segsa.json"), "{mean: oops");
            return fit(w);
        }, "model.segsa.json", "not valid JSON"));
        c.add(new Case("fit: sidecar of 2 MB", 1, false, w -> {
            Files.writeString(w.dir().resolve("model.segsa.json"), "{\"x\": \"" + "a".repeat(2 << 20) + "\"}");
            return fit(w);
        }, "model.segsa.json", "the limit is 1048576"));
        c.add(new Case("fit: archive metadata inflating to 3 MB", 1, false, w -> {
            modelWithMetadata(w.dir().resolve("bomb.pt"), "{\"x\": \"" + " ".repeat(3 << 20) + "\"}");
            return fitWith(w, w.dir().resolve("bomb.pt"));
        }, "extra/segsa.json", "1048576"));
        c.add(new Case("fit: --resize 100000x100000", 1, false, w -> fit(w, "--resize", "100000x100000"), "resize 100000x100000"));
        c.add(new Case("fit: --resize 0x10", 1, false, w -> fit(w, "--resize", "0x10"), "resize 0x10"));
        c.add(new Case("fit: --mean of two values", 1, false, w -> fit(w, "--mean", "0.1,0.2"), "--mean needs 3 values"));
        c.add(new Case("fit: --std 0", 2, false, w -> fit(w, "--std", "0,1,1"), "option '--std'", "must be a finite number > 0, got '0'"));
        c.add(new Case("fit: --lsa-references -1", 1, false, w -> fit(w, "--lsa-references", "-1"),
                "lsaReferences must be >= 0 (segsa fit: --lsa-references)"));

        // ---- SA files
        c.add(new Case("score: truncated SA file", 1, false, w -> {
            byte[] b = Files.readAllBytes(w.sa());
            Files.write(w.sa(), Arrays.copyOf(b, b.length - 100));
            return score(w);
        }, "good.sa", "truncated or corrupted"));
        c.add(new Case("score: SA file with one flipped bit", 1, false, w -> {
            byte[] b = Files.readAllBytes(w.sa());
            b[b.length / 2] ^= 0x10;
            Files.write(w.sa(), b);
            return score(w);
        }, "good.sa", "checksum mismatch"));
        c.add(new Case("score: not an SA file", 1, false, w -> {
            Files.writeString(w.sa(), "PK this is something else entirely, long enough to have a header");
            return score(w);
        }, "good.sa", "not a segsa SA model file"));
        c.add(new Case("score: SA file of another version", 1, false, w -> {
            byte[] b = Files.readAllBytes(w.sa());
            b[8] = 99;
            Files.write(w.sa(), b);
            return score(w);
        }, "format version 99"));
        c.add(new Case("score: crafted SA file declaring 400,000,000 classes", 1, false, w -> {
            rewriteSa(goodSa, w.sa(), h -> h.put("classes", 400_000_000), b -> b);
            return score(w);
        }, "'classes' must be an integer 1..65535"));
        c.add(new Case("score: crafted SA file declaring 60,000 features", 1, false, w -> {
            rewriteSa(goodSa, w.sa(), h -> h.put("featureDimension", 60_000), b -> b);
            return score(w);
        }, "declares 4 classes of 60000 features", "the file holds"));
        c.add(new Case("score: crafted SA file with a NaN class mean", 1, false, w -> {
            rewriteSa(goodSa, w.sa(), h -> h, b -> {
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putDouble(8, Double.NaN);
                return b;
            });
            return score(w);
        }, "class 0", "mean has a non-finite value"));
        c.add(new Case("score: crafted SA header with strings for numbers", 1, false, w -> {
            rewriteSa(goodSa, w.sa(), h -> h.put("featureDimension", "ten"), b -> b);
            return score(w);
        }, "'featureDimension' must be an integer"));
        c.add(new Case("score: --lsa with an SA file fitted without references", 1, false, w -> {
            assertEquals(0, EndToEndTest.run("fit", "--model", w.s(w.model()), "--images", w.s(w.images()), "--labels",
                    w.s(w.labels()), "--out", w.s(w.sa()), "--lsa-references", "0"));
            return score(w, "--lsa");
        }, "--lsa-references 0"));

        // ---- outputs that must not be replaced
        c.add(new Case("fit: --out is the model", 1, false, w -> with(fit(w), "--out", w.s(w.model())), "one of this run's inputs"));
        c.add(new Case("score: --out is the SA file", 1, false, w -> with(score(w), "--out", w.s(w.sa())), "one of this run's inputs"));
        c.add(new Case("score: --out is one of the frames", 1, false, w -> with(score(w), "--out", w.s(w.images().resolve("f000.png"))),
                "input folder"));
        c.add(new Case("score: --out inside --images", 1, false, w -> with(score(w), "--out", w.s(w.images().resolve("scores.csv"))),
                "inside the input folder"));
        c.add(new Case("fit: --out is a directory", 1, false, w -> {
            Files.createDirectories(w.out());
            return fit(w);
        }, "is a directory"));
        c.add(new Case("fit: --out is a symbolic link", 1, false, w -> {
            Files.writeString(w.dir().resolve("precious.txt"), "keep me");
            Files.createSymbolicLink(w.out(), w.dir().resolve("precious.txt"));
            return fit(w);
        }, "symbolic link"));
        c.add(new Case("fit: --out is a FIFO", 1, false, w -> {
            assertEquals(0, new ProcessBuilder("mkfifo", w.s(w.out())).start().waitFor());
            return fit(w);
        }, "not a regular file"));
        c.add(new Case("score: --out under a regular file", 1, false, w -> {
            Files.writeString(w.dir().resolve("afile"), "x");
            return with(score(w), "--out", w.s(w.dir().resolve("afile/scores.csv")));
        }, "cannot write in"));
        c.add(new Case("evaluate: --out is a file", 1, false, w -> {
            Files.writeString(w.out(), "x");
            return new String[] {"evaluate", "--scores", w.s(w.scores()), "--out", w.s(w.out())};
        }, "must be a directory"));
        c.add(new Case("evaluate: the scores file would be overwritten by the report", 1, false, w -> {
            Files.createDirectories(w.out());
            Files.copy(w.scores(), w.out().resolve("rq1.csv"));
            return new String[] {"evaluate", "--scores", w.s(w.out().resolve("rq1.csv")), "--out", w.s(w.out())};
        }, "one of this run's inputs"));
        c.add(new Case("select: --out is the scores file", 1, false, w -> new String[] {"select", "--scores", w.s(w.scores()),
                "--out", w.s(w.scores()), "--skip-fraction", "0.3"}, "one of this run's inputs"));

        // ---- CSV inputs
        c.add(new Case("evaluate: scores CSV with a UTF-8 byte-order mark is read", 0, true, w -> {
            byte[] b = Files.readAllBytes(w.scores());
            byte[] bom = new byte[b.length + 3];
            bom[0] = (byte) 0xEF; bom[1] = (byte) 0xBB; bom[2] = (byte) 0xBF;
            System.arraycopy(b, 0, bom, 3, b.length);
            Files.write(w.scores(), bom);
            return new String[] {"evaluate", "--scores", w.s(w.scores()), "--out", w.s(w.out())};
        }));
        c.add(new Case("evaluate: binary scores file", 1, false, w -> {
            Files.write(w.scores(), new byte[] {'i', 'm', 'a', 0, 1, 2, (byte) 0xff});
            return new String[] {"evaluate", "--scores", w.s(w.scores()), "--out", w.s(w.out())};
        }, "not a text CSV"));
        c.add(new Case("evaluate: invalid UTF-8 in the scores file", 1, false, w -> {
            Files.write(w.scores(), new byte[] {'i', 'm', 'a', 'g', 'e', (byte) 0xC3, (byte) 0x28, '\n'});
            return new String[] {"evaluate", "--scores", w.s(w.scores()), "--out", w.s(w.out())};
        }, "not a UTF-8 text CSV"));
        c.add(new Case("select: header-only scores file", 1, false, w -> {
            Files.writeString(w.scores(), Files.readAllLines(w.scores()).get(0) + "\n");
            return new String[] {"select", "--scores", w.s(w.scores()), "--out", w.s(w.out()), "--skip-fraction", "0.3"};
        }, "no rows"));
        c.add(new Case("select: --retrain-subsets into a folder (out ending in /) writes a folder", 0, true, w ->
                new String[] {"select", "--scores", w.s(w.scores()), "--out", w.s(w.out()) + "/", "--retrain-subsets", "--class", "0",
                        "--base-size", "3", "--min-pixels", "1"}));

        // ---- training and generation options
        c.add(new Case("train: --epochs 0", 1, false, w -> new String[] {"train", "--images", w.s(w.images()), "--labels",
                w.s(w.labels()), "--classes", "4", "--epochs", "0", "--out", w.s(w.out())}, "--epochs must be at least 1"));
        c.add(new Case("train: --lr -1", 2, false, w -> new String[] {"train", "--images", w.s(w.images()), "--labels",
                w.s(w.labels()), "--classes", "4", "--lr", "-1", "--out", w.s(w.out())}, "option '--lr'", "must be a finite number > 0, got '-1'"));
        c.add(new Case("train: --out is one of the frames", 1, false, w -> new String[] {"train", "--images", w.s(w.images()),
                "--labels", w.s(w.labels()), "--classes", "4", "--out", w.s(w.images().resolve("f000.png"))}, "input folder"));
        c.add(new Case("train: a crop larger than the frames fails and leaves no checkpoint folder", 1, false, w -> new String[] {
                "train", "--images", w.s(w.images()), "--labels", w.s(w.labels()), "--classes", "4", "--epochs", "1", "--crop", "64x64",
                "--out", w.s(w.out())}, "smaller than the crop 64x64"));
        // ---- argument bounds (round 3): one thread option type, sizes in long before allocating, video-only options
        c.add(new Case("score: --threads 10000 is refused at once", 2, false, w -> score(w, "--threads", "10000"), "threads must be 1 .. "));
        c.add(new Case("bench: --threads 0", 2, false, w -> new String[] {"bench", "--model", w.s(w.model()), "--synthetic", "32x32",
                "--threads", "1,0"}, "threads must be 1 .. "));
        c.add(new Case("train: --threads -1", 2, false, w -> new String[] {"train", "--images", w.s(w.images()), "--labels",
                w.s(w.labels()), "--classes", "4", "--threads", "-1", "--out", w.s(w.out())}, "threads must be 1 .. "));
        c.add(new Case("train: --crop 100000x100000 overflows no int", 1, false, w -> new String[] {"train", "--images",
                w.s(w.images()), "--labels", w.s(w.labels()), "--classes", "4", "--crop", "100000x100000", "--out", w.s(w.out())},
                "--crop 100000x100000 = 10000000000 pixels, above the limit"));
        c.add(new Case("train: --features 5000 is above the contract's 4096", 1, false, w -> new String[] {"train", "--images",
                w.s(w.images()), "--labels", w.s(w.labels()), "--classes", "4", "--features", "5000", "--out", w.s(w.out())},
                "--features must be 1 .. 4096"));
        c.add(new Case("score: --every with --images is refused, not ignored", 1, false, w -> score(w, "--every", "2"),
                "apply to --video and --mcap, not to --images"));
        c.add(new Case("score: --from with --images is refused, not ignored", 1, false, w -> score(w, "--from", "3"),
                "apply to --video and --mcap, not to --images"));
        c.add(new Case("render: --still past the last frame writes nothing and says so", 1, false, w -> new String[] {"render",
                "--model", w.s(w.model()), "--sa", w.s(w.sa()), "--images", w.s(w.images()), "--out", w.s(w.out()), "--still", "99",
                "--still-out", w.s(w.dir().resolve("still.png"))}, "--still 99: the run rendered 4 frames (0..3); nothing written"));
        c.add(new Case("timeline: two recordings with one file name collide and are refused", 1, false, w -> {
            Path csv = w.dir().resolve("merged.csv");
            Files.writeString(csv, "video,frame,pts,class,pixels,mdsa,lsa,iou\n"
                    + "drive.mp4,0,0.0,road,10,1.5,,\ndrive.mp4,1,0.1,road,10,1.7,,\n"
                    + "drive.mp4,0,0.0,road,12,2.5,,\ndrive.mp4,1,0.1,road,12,2.9,,\n");
            return new String[] {"timeline", "--scores", w.s(csv), "--out", w.s(w.out())};
        }, "frame drive.mp4#0 has two rows for class road", "two recordings with the same file name"));
        c.add(new Case("score --labels: frames without masks fail before the first frame, listed", 1, false, w -> {
            Files.delete(w.labels().resolve("f001.png"));
            Files.delete(w.labels().resolve("f003.png"));
            return score(w, "--labels", w.s(w.labels()));
        }, "2 of 4 frames have no mask", "f001.png, f003.png", "nothing scored"));
        c.add(new Case("select: two runs concatenated (duplicated frame keys) are refused", 1, false, w -> {
            Path csv = w.dir().resolve("twice.csv");
            Files.writeString(csv, "image,class,pixels,mdsa,lsa,iou\na.png,road,10,1.5,,0.9\nb.png,road,10,1.7,,0.8\n"
                    + "a.png,road,10,1.5,,0.9\n");
            return new String[] {"select", "--scores", w.s(csv), "--skip-fraction", "0.5", "--out", w.s(w.out())};
        }, "frame a.png has two rows for class road"));
        c.add(new Case("select: a Parquet scores folder named with glob characters is read literally, not as a pattern", 1, false, w -> {
            // "fleet[1]" as a DuckDB glob would match the sibling "fleet1" (good scores); read literally it holds duplicated keys
            Path literal = w.dir().resolve("fleet[1]"), decoy = w.dir().resolve("fleet1");
            Files.createDirectories(literal);
            Files.createDirectories(decoy);
            try (var conn = java.sql.DriverManager.getConnection("jdbc:duckdb:"); var st = conn.createStatement()) {
                st.execute("COPY (SELECT * FROM (VALUES ('a.png', 'road', 10::BIGINT, 1.5::DOUBLE, 0.9::DOUBLE), ('a.png', 'road', "
                        + "10::BIGINT, 1.5::DOUBLE, 0.9::DOUBLE)) t(image, class, pixels, mdsa, iou)) TO '"
                        + literal.resolve("part-0.parquet").toString().replace("'", "''") + "' (FORMAT PARQUET)");
                st.execute("COPY (SELECT * FROM (VALUES ('b.png', 'road', 10::BIGINT, 1.5::DOUBLE, 0.9::DOUBLE)) t(image, class, pixels, "
                        + "mdsa, iou)) TO '" + decoy.resolve("part-0.parquet").toString().replace("'", "''") + "' (FORMAT PARQUET)");
            }
            return new String[] {"select", "--scores", w.s(literal), "--skip-fraction", "0.5", "--out", w.s(w.out())};
        }, "frame a.png has two rows for class road"));
        c.add(new Case("render: a window with no frame (--from past the end) fails; the earlier output stays", 1, false, w -> {
            Path video = w.dir().resolve("drive.mp4");
            assertEquals(0, EndToEndTest.run("encode", "--images", w.s(w.images()), "--fps", "10", "--out", w.s(video)));
            Files.writeString(w.out(), "an earlier video");
            return new String[] {"render", "--model", w.s(w.model()), "--sa", w.s(w.sa()), "--video", w.s(video), "--from", "999",
                    "--out", w.s(w.out())};
        }, "no frame to render", "nothing written"));
        c.add(new Case("render: --timeline on the same path as --out is refused before any work", 1, false, w ->
                new String[] {"render", "--model", w.s(w.model()), "--sa", w.s(w.sa()), "--images", w.s(w.images()), "--out", w.s(w.out()),
                        "--timeline", w.s(w.out())}, "is also --out of this run"));
        c.add(new Case("score --skip-bad-frames: a folder of videos with a zero-byte one and a text file goes on, lists them, exits 5", 5, true,
                w -> {
                    Path videos = Files.createDirectories(w.dir().resolve("videos"));
                    assertEquals(0, EndToEndTest.run("encode", "--images", w.s(w.images()), "--fps", "10", "--out", w.s(videos.resolve("a.mp4"))));
                    Files.write(videos.resolve("b-empty.mp4"), new byte[0]);
                    Files.writeString(videos.resolve("c-words.mp4"), "not a video");
                    return new String[] {"score", "--model", w.s(w.model()), "--sa", w.s(w.sa()), "--video", w.s(videos), "--out",
                            w.s(w.out()), "--skip-bad-frames"};
                }, "b-empty.mp4: cannot open video", "c-words.mp4: cannot open video"));
        c.add(new Case("generate: unknown condition", 1, false, w -> new String[] {"generate", "--out", w.s(w.out()), "--frames", "2",
                "--conditions", "weather=snow"}, "weather"));
        return c;
    }

    /** path -> content hash (files), link target (links), or kind (other), for every entry under dir. */
    static Map<String, String> snapshot(Path dir, Path exclude) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                if (exclude != null && p.startsWith(exclude)) continue;
                String key = dir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) out.put(key, "link:" + Files.readSymbolicLink(p));
                else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) out.put(key, sha256(Files.readAllBytes(p)));
                else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.put(key, "dir");
                else out.put(key, "other");
            }
        }
        return out;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> catalogue(@TempDir Path root) {
        List<Case> cases = cases();
        assertTrue(cases.size() >= 50, "the catalogue has " + cases.size() + " cases");
        return cases.stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            Path dir = Files.createDirectories(root.resolve("case" + Integer.toHexString(k.name().hashCode())));
            Work w = work(dir, k.name().startsWith("evaluate") || k.name().startsWith("generate") || k.name().contains("into a folder")
                    ? "out-dir" : "out.file");
            String[] args = k.setup().args(w);
            boolean outExisted = Files.exists(w.out(), LinkOption.NOFOLLOW_LINKS);
            Map<String, String> before = snapshot(dir, outExisted ? null : w.out());
            StringWriter err = new StringWriter();
            var cl = SegsaCommand.commandLine();
            cl.setErr(new PrintWriter(err, true));
            cl.setOut(new PrintWriter(new StringWriter(), true));
            java.io.ByteArrayOutputStream stderr = new java.io.ByteArrayOutputStream();
            java.io.PrintStream oldErr = System.err;
            int status;
            try {
                System.setErr(new java.io.PrintStream(stderr, true, StandardCharsets.UTF_8));
                status = cl.execute(args);
            } finally {
                System.setErr(oldErr);
            }
            String msg = err + stderr.toString(StandardCharsets.UTF_8);
            assertEquals(k.exit(), status, "exit status of '" + k.name() + "': " + msg);
            for (String f : k.fragments()) assertTrue(msg.contains(f), "'" + k.name() + "' should say \"" + f + "\": " + msg);
            assertFalse(msg.contains("\tat ") || msg.contains("Exception in thread"), "a stack trace was printed: " + msg);
            if (k.outputExpected()) {
                assertTrue(Files.exists(w.out()), "'" + k.name() + "' should have written " + w.out());
                assertEquals(before, snapshot(dir, w.out()), "inputs changed in '" + k.name() + "'");
            } else {
                if (!outExisted) assertFalse(Files.exists(w.out(), LinkOption.NOFOLLOW_LINKS), "'" + k.name() + "' left " + w.out());
                assertEquals(before, snapshot(dir, outExisted ? null : w.out()), "files changed in '" + k.name() + "'");
            }
            try (Stream<Path> s = Files.walk(dir)) {
                List<Path> temps = s.filter(p -> p.getFileName().toString().contains(".segsa-tmp-")).toList();
                assertTrue(temps.isEmpty(), "temporaries left: " + temps);
            }
        }));
    }

    /** Every command's help formats (no picocli "Could not format" warning). */
    @TestFactory
    Stream<DynamicTest> helpFormats() {
        return Stream.of("fit", "score", "bench", "render", "timeline", "encode", "evaluate", "select", "decide", "watch", "train", "generate", "demo").map(cmd -> DynamicTest.dynamicTest(cmd, () -> {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.PrintStream old = System.err;
            StringWriter out = new StringWriter();
            try {
                System.setErr(new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8));
                var cl = SegsaCommand.commandLine();
                cl.setOut(new PrintWriter(out, true));
                assertEquals(0, cl.execute(cmd, "--help"));
            } finally {
                System.setErr(old);
            }
            assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("Could not format"), bytes.toString(StandardCharsets.UTF_8));
            assertFalse(out.toString().contains("Could not format"), out.toString());
        }));
    }
}
