package dev.segsa.evaluate;

import dev.segsa.Segsa;
import dev.segsa.features.FrameReader;
import dev.segsa.io.AtomicOutput;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import dev.segsa.stream.DHash;
import dev.segsa.stream.FrameDescriptor;
import dev.segsa.stream.SelectorConfig;
import dev.segsa.stream.StreamSelector;
import dev.segsa.stream.Trigger;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Does online selection pick the right frames? CamVid's labelled frames come from video sequences
 * (their names carry the sequence and the frame number, at 30 frames/s): each sequence of a split
 * is replayed in order as a stream, scored once (with its labels, for the IoU), and the
 * {@link StreamSelector} runs over the results exactly as {@code segsa watch --score-all} would
 * (its decisions depend only on the results, the times and the dHash). Compared at budgets of 5,
 * 10 and 20%: online (image SA; Car SA; each with and without the diversity gate), the offline
 * top-x% by the same score over the whole sequence (what {@code segsa select} picks with
 * hindsight), every k-th frame, and random (20 seeded draws). Per rule: the share of the
 * sequence's low-IoU (frame, class) pairs (class IoU &lt; 0.5, classes in the label or the
 * prediction) whose frame was kept, the mean IoU of the kept frames, the near-duplicate pairs kept
 * (dHash within 6 bits), and the achieved keep share. Writes a Markdown table.
 *
 * <p>Usage: {@code StreamStudy MODEL SA CAMVID_DIR OUT.md}
 */
public final class StreamStudy {
    private StreamStudy() {}

    /** One scored frame of a stream. */
    record Scored(String name, double seconds, FrameResult result, long hash, double[] iou) {}

    /** A rule's kept set on one stream. */
    record Kept(String rule, double budget, String stream, boolean[] kept) {}

    static final double[] BUDGETS = {0.05, 0.10, 0.20};
    static final int IGNORE = 11;
    static final int DUPLICATE_BITS = 6;

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: StreamStudy MODEL SA CAMVID_DIR OUT.md");
            System.exit(2);
        }
        Path model = Path.of(args[0]), saFile = Path.of(args[1]), camvid = Path.of(args[2]), out = Path.of(args[3]);
        SaModel sa = SaModelFile.read(saFile);
        Map<String, List<Scored>> streams = new LinkedHashMap<>();
        try (Segsa engine = Segsa.builder(model, sa).saSource(saFile).open()) {
            for (String split : List.of("val", "train")) {
                Map<String, List<Path>> bySequence = new LinkedHashMap<>();
                for (Path p : FrameReader.listFrames(camvid.resolve(split))) {
                    String n = p.getFileName().toString();
                    bySequence.computeIfAbsent(split + "/" + n.substring(0, n.indexOf('_')), k -> new ArrayList<>()).add(p);
                }
                for (Map.Entry<String, List<Path>> e : bySequence.entrySet()) {
                    List<Path> frames = new ArrayList<>(e.getValue());
                    frames.sort(Comparator.comparingLong(StreamStudy::frameNumber));
                    List<Scored> s = new ArrayList<>();
                    for (Path p : frames) {
                        BufferedImage img = FrameReader.readImage(p);
                        FrameResult r = engine.score(img, p.getFileName().toString());
                        int[] pred = r.copyPredictedMap();
                        int[] lab = FrameReader.readLabels(camvid.resolve(split + "annot").resolve(p.getFileName()), p, img.getWidth(),
                                img.getHeight(), r.width(), r.height());
                        s.add(new Scored(p.getFileName().toString(), frameNumber(p) / 30.0, r, DHash.of(img), iou(pred, lab, r.classes())));
                    }
                    streams.put(e.getKey(), s);
                    System.err.println("stream-study: scored " + e.getKey() + " (" + s.size() + " frames)");
                }
            }
        }
        List<String> classNames = sa.settings().classNames();
        int car = classNames.indexOf("Car");
        StringBuilder md = new StringBuilder();
        md.append("| rule | budget | low-IoU pairs captured | of offline's | low-IoU pairs per kept frame / per frame | mean IoU of kept "
                + "| near-duplicate pairs kept | kept share |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (double budget : BUDGETS) {
            Map<String, double[]> rows = new LinkedHashMap<>();
            for (String rule : List.of("online image SA", "online image SA + diversity", "online Car SA", "online Car SA + diversity",
                    "offline top-x% image SA", "offline top-x% Car SA", "every k-th", "random (20 draws)")) {
                double captured = 0, lowTotal = 0, iouSum = 0, iouN = 0, dup = 0, kept = 0, seen = 0;
                for (Map.Entry<String, List<Scored>> e : streams.entrySet()) {
                    List<Scored> s = e.getValue();
                    int draws = rule.startsWith("random") ? 20 : 1;
                    for (int d = 0; d < draws; d++) {
                        boolean[] k = select(rule, budget, s, car, d);
                        double[] m = measure(s, k);
                        captured += m[0] / draws;
                        lowTotal += m[1] / draws;
                        iouSum += m[2] / draws;
                        iouN += m[3] / draws;
                        dup += m[4] / draws;
                        kept += m[5] / draws;
                        seen += s.size() / (double) draws;
                    }
                }
                rows.put(rule, new double[] {captured / lowTotal, iouSum / iouN, dup, kept / seen, (captured / kept) / (lowTotal / seen)});
            }
            for (Map.Entry<String, double[]> row : rows.entrySet()) {
                double[] v = row.getValue();
                String offlineRule = row.getKey().contains("Car") ? "offline top-x% Car SA" : "offline top-x% image SA";
                double ofOffline = row.getKey().startsWith("online") ? v[0] / rows.get(offlineRule)[0] : Double.NaN;
                md.append(String.format(Locale.ROOT, "| %s | %.0f%% | %.3f | %s | %.2f | %.3f | %.1f | %.3f |%n", row.getKey(), 100 * budget,
                        v[0], Double.isNaN(ofOffline) ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * ofOffline), v[4], v[1], v[2], v[3]));
            }
        }
        StringBuilder head = new StringBuilder();
        head.append("Streams (split/sequence, frames): ");
        for (Map.Entry<String, List<Scored>> e : streams.entrySet()) head.append(e.getKey()).append(" ").append(e.getValue().size()).append("; ");
        head.append("\n\n");
        AtomicOutput.write(out, (head + md.toString()).getBytes(StandardCharsets.UTF_8));
        System.out.print(head + md.toString());
    }

    static long frameNumber(Path p) {
        String n = p.getFileName().toString();
        // 0016E5_07959.png, 0006R0_f00930.png: the digits after the sequence name
        String digits = n.substring(n.indexOf('_') + 1).replaceAll("^[^0-9]*", "").replaceAll("[^0-9].*$", "");
        return Long.parseLong(digits);
    }

    /** Per class IoU of one frame (NaN where the class is in neither the label nor the prediction; ignore-label pixels left out). */
    static double[] iou(int[] pred, int[] label, int classes) {
        long[] inter = new long[classes], union = new long[classes];
        for (int i = 0; i < pred.length; i++) {
            int l = label[i];
            if (l == IGNORE) continue;
            int p = pred[i];
            if (p == l) {
                inter[p]++;
                union[p]++;
            } else {
                if (p >= 0 && p < classes) union[p]++;
                if (l >= 0 && l < classes) union[l]++;
            }
        }
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) out[c] = union[c] == 0 ? Double.NaN : (double) inter[c] / union[c];
        return out;
    }

    static boolean[] select(String rule, double budget, List<Scored> s, int car, int draw) {
        int n = s.size();
        boolean[] k = new boolean[n];
        ToDoubleFunction<FrameResult> score = rule.contains("Car") ? r -> r.mdsaMean()[car] : FrameResult::imageMdsa;
        if (rule.startsWith("online")) {
            Trigger t = rule.contains("Car") ? new Trigger("car", Trigger.Score.CLASS_MDSA_MEAN, "Car", 100, Double.NaN, 0)
                    : Trigger.onBudget("image", Trigger.Score.IMAGE_MDSA);
            // warm-up 10 frames; horizon 60 s; burst 1 frame
            SelectorConfig c = new SelectorConfig(List.of(t), SelectorConfig.Combine.ANY,
                    new SelectorConfig.Budget(SelectorConfig.Budget.Kind.SHARE, budget, 60, 10, 1), 0, 0,
                    rule.contains("diversity") ? DUPLICATE_BITS : -1, 32);
            StreamSelector sel = new StreamSelector(c);
            for (int i = 0; i < n; i++) {
                for (StreamSelector.Decision d : sel.offer(0, s.get(i).result(), s.get(i).seconds(), FrameDescriptor.of(s.get(i).hash()), 0)) {
                    k[(int) d.frame()] = d.keep();
                }
            }
            for (StreamSelector.Decision d : sel.flush()) k[(int) d.frame()] = d.keep();
        } else if (rule.startsWith("offline")) {
            int want = (int) Math.round(budget * n);
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> {
                double v = score.applyAsDouble(s.get(i).result());
                return Double.isNaN(v) ? Double.NEGATIVE_INFINITY : -v;
            }).thenComparingInt(i -> i));
            for (int i = 0; i < want; i++) {
                double v = score.applyAsDouble(s.get(order[i]).result());
                if (!Double.isNaN(v)) k[order[i]] = true;
            }
        } else if (rule.startsWith("every")) {
            return SelectorStudy.everyKth(n, budget);
        } else {
            return SelectorStudy.random(n, budget, draw);
        }
        return k;
    }

    /** {low-IoU pairs captured, low-IoU pairs in all, sum of kept frames' mean IoU, kept frames with an IoU, near-duplicate pairs kept, kept}. */
    static double[] measure(List<Scored> s, boolean[] k) {
        double captured = 0, low = 0, iouSum = 0, iouN = 0, dup = 0, kept = 0;
        List<Long> keptHashes = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            double[] iou = s.get(i).iou();
            int lowHere = 0;
            double sum = 0;
            int n = 0;
            for (double v : iou) {
                if (Double.isNaN(v)) continue;
                if (v < 0.5) lowHere++;
                sum += v;
                n++;
            }
            low += lowHere;
            if (!k[i]) continue;
            kept++;
            captured += lowHere;
            if (n > 0) {
                iouSum += sum / n;
                iouN++;
            }
            for (long h : keptHashes) if (Long.bitCount(h ^ s.get(i).hash()) <= DUPLICATE_BITS) dup++;
            keptHashes.add(s.get(i).hash());
        }
        return new double[] {captured, low, iouSum, iouN, dup, kept};
    }
}
