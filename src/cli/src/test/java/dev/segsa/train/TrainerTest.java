package dev.segsa.train;

import dev.segsa.cli.SegsaCommand;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.FrameOutput;
import dev.segsa.model.ModelMetadata;
import dev.segsa.model.SegmentationModel;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A few training steps on the tiny e2e fixture frames (32 x 24): contract, metadata, resume, determinism. */
class TrainerTest {
    @TempDir
    Path dir;

    private static Path fixture(String sub) throws Exception {
        return Path.of(TrainerTest.class.getResource("/e2e").toURI()).resolve(sub);
    }

    private int train(Path out, Path checkpoints, String... extra) throws Exception {
        return train(3, out, checkpoints, extra);
    }

    private int train(long seed, Path out, Path checkpoints, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--images", fixture("train/images").toString(), "--labels",
                fixture("train/labels").toString(), "--val-images", fixture("val/images").toString(), "--val-labels",
                fixture("val/labels").toString(), "--classes", "4", "--class-names", "a,b,c,d", "--features", "8", "--epochs", "3",
                "--batch", "2", "--crop", "24x16", "--threads", "1", "--seed", Long.toString(seed), "--out", out.toString(), "--checkpoints",
                checkpoints.toString()));
        args.addAll(List.of(extra));
        return SegsaCommand.commandLine().execute(args.toArray(String[]::new));
    }

    private static float[] logits(Path model) throws Exception {
        float[] x = new float[3 * 24 * 32];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.cos(i * 0.01);
        try (SegmentationModel m = SegmentationModel.load(model, UpsampleMode.BILINEAR); PointerScope s = new PointerScope()) {
            FrameOutput out = m.infer(x, 24, 32, "probe");
            assertEquals(8, out.features().d());
            assertEquals(3, out.features().h0());
            assertEquals(4, out.features().w0());
            assertEquals(4, out.classes());
            float[] f = new float[8 * 3 * 4];
            for (int c = 0; c < 8; c++) for (int y = 0; y < 3; y++) for (int xx = 0; xx < 4; xx++) f[(c * 3 + y) * 4 + xx] = out.features().get(c, y, xx);
            return f;
        }
    }

    @Test
    void trainsSavesWithMetadataAndResumesToTheSameWeights() throws Exception {
        Path straight = dir.resolve("straight.pt");
        assertEquals(0, train(straight, dir.resolve("ck1")));
        ModelMetadata meta = ModelMetadata.read(straight);
        assertEquals(List.of("a", "b", "c", "d"), meta.classNames());
        assertEquals(255, meta.ignoreLabel());
        assertEquals(UpsampleMode.BILINEAR, meta.upsample());
        assertArrayEquals(new double[] {0.5, 0.5, 0.5}, meta.mean());
        String card = Files.readString(dir.resolve("straight.md"));
        assertTrue(card.contains("validation mIoU"), card);
        assertTrue(card.contains("| a |"), card);

        // interrupted after the first epoch (--max-minutes), then resumed: same weights as straight through
        Path resumed = dir.resolve("resumed.pt");
        assertEquals(3, train(resumed, dir.resolve("ck2"), "--max-minutes", "0.00001"));
        assertFalse(Files.exists(resumed));
        assertTrue(Files.exists(dir.resolve("ck2/checkpoint.pt")));
        assertEquals(0, train(resumed, dir.resolve("ck2"), "--resume"));
        assertArrayEquals(logits(straight), logits(resumed), 0f);

        // another seed, other weights
        Path other = dir.resolve("other.pt");
        assertEquals(0, train(4, other, dir.resolve("ck3")));
        assertFalse(java.util.Arrays.equals(logits(straight), logits(other)));
    }

    @Test
    void validatingOnlyAfterTheLastEpochChangesNeitherTheWeightsNorTheCard() throws Exception {
        Path every = dir.resolve("every.pt");
        assertEquals(0, train(every, dir.resolve("ck1")));
        Path last = dir.resolve("last.pt");
        assertEquals(0, train(last, dir.resolve("ck2"), "--validate-every", "0"));
        assertArrayEquals(logits(every), logits(last), 0f);
        // the cards differ only in their command lines and training times
        String a = Files.readString(dir.resolve("every.md")), b = Files.readString(dir.resolve("last.md"));
        String figures = "validation mIoU";
        assertEquals(a.substring(a.indexOf(figures)), b.substring(b.indexOf(figures)));
        // the history: a validation after the last epoch only
        var history = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("ck2/checkpoint.json").toFile()).get("history");
        assertEquals(3, history.size());
        assertFalse(history.get(0).has("valMeanIou"));
        assertFalse(history.get(1).has("valMeanIou"));
        assertTrue(history.get(2).has("valMeanIou"));
        var full = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("ck1/checkpoint.json").toFile()).get("history");
        assertEquals(full.get(2).get("valMeanIou").asDouble(), history.get(2).get("valMeanIou").asDouble(), 0.0);

        assertEquals(SegsaCommand.EXIT_INPUT_ERROR, train(dir.resolve("bad.pt"), dir.resolve("ck3"), "--validate-every", "-1"));
        assertFalse(Files.exists(dir.resolve("bad.pt")));
    }
}
