package dev.segsa.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.model.LibTorch;
import dev.segsa.model.ModelInspection;
import dev.segsa.io.AtomicOutput;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.ExtraFilesMap;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Method;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;
import org.bytedeco.pytorch.parameter_iterator;
import org.bytedeco.pytorch.parameter_list;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code segsa train}: trains {@link CompactSegNet} with LibTorch from Java. Weighted
 * cross-entropy (ENet class weights 1/ln(1.02 + p), ignore label excluded), random crops and
 * horizontal flips, Adam with weight decay, polynomial learning-rate decay (power 0.9) per step,
 * validation mIoU every {@code validateEvery} epochs (0: none) and after the last, a checkpoint
 * (network, optimizer state, history) after every epoch and {@code --resume}. Each epoch's batch
 * order comes from (seed, epoch), so a resumed run takes the same path as an uninterrupted one;
 * same seed and thread count give the same weights on one machine (not always on another).
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Settings(Path images, Path labels, Path valImages, Path valLabels, Path out, Path checkpoints,
                           int classes, int ignoreLabel, List<String> classNames, int features, int epochs, int batch,
                           int cropWidth, int cropHeight, double learningRate, double weightDecay, long seed, int threads,
                           double[] mean, double[] std, boolean resume, double maxMinutes, String command,
                           CompactSegNet.Head head, Path init, int validateEvery) {
        /** The settings of the first models: skip head, trained from scratch. */
        public Settings(Path images, Path labels, Path valImages, Path valLabels, Path out, Path checkpoints,
                        int classes, int ignoreLabel, List<String> classNames, int features, int epochs, int batch,
                        int cropWidth, int cropHeight, double learningRate, double weightDecay, long seed, int threads,
                        double[] mean, double[] std, boolean resume, double maxMinutes, String command) {
            this(images, labels, valImages, valLabels, out, checkpoints, classes, ignoreLabel, classNames, features, epochs, batch,
                    cropWidth, cropHeight, learningRate, weightDecay, seed, threads, mean, std, resume, maxMinutes, command,
                    CompactSegNet.Head.SKIP, null, 1);
        }
    }

    /** Validation result: per-class IoU over the whole validation set (NaN where a class never occurs). */
    public record Validation(double[] iou, double pixelAccuracy) {
        public double meanIou() {
            double s = 0;
            int n = 0;
            for (double v : iou) if (Double.isFinite(v)) { s += v; n++; }
            return n == 0 ? Double.NaN : s / n;
        }
    }

    private final Settings s;
    private final PrintStream log;
    /** The network's head: --head, or the --init model's. */
    private CompactSegNet.Head head;

    public Trainer(Settings settings, PrintStream log) {
        this.s = settings;
        this.log = log;
        this.head = settings.head();
    }

    /** Runs (or resumes) training; returns true when all epochs are done, false when --max-minutes stopped it. */
    public boolean run() {
        boolean fresh = !Files.exists(s.checkpoints());
        try {
            return train();
        } catch (RuntimeException | Error e) {
            // a training that failed leaves no empty checkpoint folder of its own behind
            if (fresh) {
                try (var entries = Files.list(s.checkpoints())) {
                    if (entries.findAny().isEmpty()) Files.delete(s.checkpoints());
                } catch (IOException ignored) {
                    // not there, or not empty: leave it
                }
            }
            throw e;
        }
    }

    private boolean train() {
        LibTorch.ensureLoaded();
        torch.set_num_threads(s.threads());
        TrainingSet train = TrainingSet.load(s.images(), s.labels(), s.classes(), s.ignoreLabel());
        TrainingSet val = s.valImages() == null ? null : TrainingSet.load(s.valImages(), s.valLabels(), s.classes(), s.ignoreLabel());
        log.printf(Locale.ROOT, "train: %d frames, validation: %d frames, %d classes, %d threads%n", train.size(),
                val == null ? 0 : val.size(), s.classes(), s.threads());
        try {
            Files.createDirectories(s.checkpoints());
        } catch (IOException e) {
            throw new SegsaException(s.checkpoints() + ": cannot create checkpoint directory: " + e.getMessage(), e);
        }
        Path ckModel = s.checkpoints().resolve("checkpoint.pt");
        Path ckOptim = s.checkpoints().resolve("checkpoint-optimizer.pt");
        Path ckState = s.checkpoints().resolve("checkpoint.json");

        JitModule net;
        int startEpoch = 0;
        ArrayNode history = JSON.createArrayNode();
        double seconds = 0;
        if (s.resume() && Files.isRegularFile(ckState)) {
            net = torch.load(ckModel.toString());
            CompactSegNet.Head resumed = headOf(net);
            if (resumed != null) head = resumed;
            try {
                JsonNode st = JSON.readTree(ckState.toFile());
                startEpoch = st.get("epochsDone").asInt();
                seconds = st.get("seconds").asDouble();
                history = (ArrayNode) st.get("history");
            } catch (IOException e) {
                throw new SegsaException(ckState + ": cannot read checkpoint state: " + e.getMessage(), e);
            }
            log.printf(Locale.ROOT, "train: resuming after epoch %d from %s%n", startEpoch, ckModel);
        } else if (s.init() != null) {
            net = torch.load(s.init().toString());
            ModelInspection.check(net, s.init());
            CompactSegNet.Head initHead = headOf(net);
            if (initHead == null) {
                throw new SegsaException(s.init() + ": --init needs a model made by segsa train (a CompactSegNet), this one has neither "
                        + "a skip path nor a decoder");
            }
            head = initHead; // the architecture is the init model's, whatever --head says
            log.printf(Locale.ROOT, "train: fine-tuning from %s%n", s.init());
        } else {
            net = CompactSegNet.create(s.features(), s.classes(), s.seed(), s.head());
        }
        net.train(true);
        TensorVector params = parameters(net);
        AdamOptions options = new AdamOptions(s.learningRate());
        options.weight_decay().put(s.weightDecay());
        Adam adam = new Adam(params, options);
        if (startEpoch > 0 && Files.isRegularFile(ckOptim)) {
            InputArchive in = new InputArchive();
            in.load_from(ckOptim.toString());
            adam.load(in);
        }
        Method loss = net.get_method("loss");

        double[] freq = train.classFrequencies(s.classes());
        float[] weights = new float[s.classes()];
        for (int c = 0; c < s.classes(); c++) weights[c] = (float) Math.min(50.0, 1.0 / Math.log(1.02 + freq[c]));
        Tensor weight = CompactSegNet.tensor(weights, s.classes());

        int b = s.batch(), cw = s.cropWidth(), ch = s.cropHeight();
        int steps = Math.max(1, train.size() / b);
        long totalSteps = (long) steps * s.epochs();
        float[] x = new float[b * 3 * ch * cw];
        long[] y = new long[b * ch * cw];
        FloatPointer xp = new FloatPointer(x.length);
        LongPointer yp = new LongPointer(y.length);
        long started = System.nanoTime();
        boolean terminal = System.console() != null && System.console().isTerminal();
        // the last epoch's validation is the model card's: the network is not changed in between
        Validation finalValidation = null;
        for (int epoch = startEpoch; epoch < s.epochs(); epoch++) {
            long epochStart = System.nanoTime();
            SplittableRandom r = new SplittableRandom(s.seed() * 1_000_003L + epoch);
            int[] order = permutation(train.size(), r);
            double lossSum = 0;
            for (int step = 0; step < steps; step++) {
                dev.segsa.io.StopRequest.check(); // SIGINT / SIGTERM: stop between steps (the last checkpoint stays)
                long globalStep = (long) epoch * steps + step;
                double lr = s.learningRate() * Math.pow(1.0 - (double) globalStep / totalSteps, 0.9);
                adam.param_groups().get(0).options().set_lr(lr);
                for (int k = 0; k < b; k++) {
                    int i = order[step * b + k];
                    int[] o = train.randomOrigin(i, cw, ch, r);
                    train.crop(i, o[0], o[1], cw, ch, r.nextBoolean(), s.mean(), s.std(), s.ignoreLabel(), x, y, k);
                }
                xp.put(x);
                yp.put(y);
                try (PointerScope scope = new PointerScope()) {
                    Tensor xt = torch.from_blob(xp, b, 3, ch, cw);
                    Tensor yt = torch.from_blob(yp, new long[] {b, ch, cw}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long));
                    IValueVector args = new IValueVector(new IValue(xt), new IValue(yt), new IValue(weight), new IValue(-100L));
                    Tensor l = loss.apply(args).toTensor();
                    adam.zero_grad();
                    l.backward();
                    adam.step();
                    float lv = l.item_float();
                    if (!Float.isFinite(lv)) throw new SegsaException("training diverged at epoch " + (epoch + 1) + " step " + step + " (loss " + lv + "); lower --lr");
                    lossSum += lv;
                }
                if (terminal) {
                    double el = (System.nanoTime() - epochStart) / 1e9;
                    log.printf(Locale.ROOT, "\repoch %d/%d  step %d/%d  loss %.4f  %.2f frames/s   ", epoch + 1, s.epochs(), step + 1, steps,
                            lossSum / (step + 1), (step + 1) * b / el);
                }
            }
            double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
            seconds += epochSeconds;
            Validation v = null;
            boolean lastEpoch = epoch + 1 == s.epochs();
            if (val != null && (lastEpoch || (s.validateEvery() > 0 && (epoch + 1) % s.validateEvery() == 0))) {
                net.train(false);
                v = validate(net, val, s.classes(), s.mean(), s.std(), s.ignoreLabel());
                net.train(true);
                if (lastEpoch) finalValidation = v;
            }
            ObjectNode h = history.addObject();
            h.put("epoch", epoch + 1);
            h.put("loss", lossSum / steps);
            h.put("seconds", epochSeconds);
            if (v != null) h.put("valMeanIou", v.meanIou());
            if (terminal) log.print("\r");
            log.printf(Locale.ROOT, "epoch %d/%d  loss %.4f  %s  %.0f s  (%.1f min so far)%n", epoch + 1, s.epochs(), lossSum / steps,
                    v == null ? "" : String.format(Locale.ROOT, "val mIoU %.4f  pixel acc %.4f", v.meanIou(), v.pixelAccuracy()),
                    epochSeconds, seconds / 60);
            checkpoint(net, adam, ckModel, ckOptim, ckState, epoch + 1, seconds, history);
            if (s.maxMinutes() > 0 && (System.nanoTime() - started) / 60e9 >= s.maxMinutes() && epoch + 1 < s.epochs()) {
                log.printf(Locale.ROOT, "train: stopping after %.1f minutes (--max-minutes); continue with --resume%n",
                        (System.nanoTime() - started) / 60e9);
                return false;
            }
        }
        net.train(false);
        Validation v = finalValidation != null || val == null ? finalValidation
                : validate(net, val, s.classes(), s.mean(), s.std(), s.ignoreLabel());
        save(net, v, seconds, history);
        return true;
    }

    private static int[] permutation(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
        return p;
    }

    /** The head of a CompactSegNet loaded from a file (its decoder or skip weights), or null when it is neither. */
    static CompactSegNet.Head headOf(JitModule net) {
        boolean decoder = false, skip = false;
        named_parameter_list list = net.named_parameters(true);
        for (named_parameter_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            String name = it.access().name().getString();
            decoder |= name.equals("d0_w");
            skip |= name.equals("skip_w");
        }
        return decoder ? CompactSegNet.Head.FEATURES : skip ? CompactSegNet.Head.SKIP : null;
    }

    static TensorVector parameters(JitModule net) {
        TensorVector v = new TensorVector();
        parameter_list list = net.parameters(true);
        for (parameter_iterator it = list.begin(); it.notEquals(list.end()); it = it.increment()) {
            Tensor p = it.access();
            p.requires_grad_(true);
            v.push_back(p);
        }
        return v;
    }

    /** Per-class IoU over the whole validation set at full resolution (the network in eval mode). */
    public static Validation validate(JitModule net, TrainingSet val, int classes, double[] mean, double[] std, int ignoreLabel) {
        long[] inter = new long[classes], pred = new long[classes], lab = new long[classes];
        long correct = 0, counted = 0;
        for (int i = 0; i < val.size(); i++) {
            int w = val.width(i), h = val.height(i);
            float[] x = new float[3 * w * h];
            long[] y = new long[w * h];
            val.crop(i, 0, 0, w, h, false, mean, std, ignoreLabel, x, y, 0);
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                FloatPointer xp = new FloatPointer(x);
                Tensor out = net.forward(new IValueVector(new IValue(torch.from_blob(xp, 1, 3, h, w)))).toTuple().elements().get(1).toTensor();
                Tensor am = out.argmax(new LongOptional(1), false).to(torch.ScalarType.Int).contiguous();
                int[] p = new int[w * h];
                MemorySegment.ofAddress(am.data_ptr().address()).reinterpret(4L * w * h).asByteBuffer()
                        .order(java.nio.ByteOrder.nativeOrder()).asIntBuffer().get(p);
                for (int k = 0; k < p.length; k++) {
                    long l = y[k];
                    if (l < 0) continue;
                    counted++;
                    pred[p[k]]++;
                    lab[(int) l]++;
                    if (p[k] == l) { inter[p[k]]++; correct++; }
                }
            }
        }
        double[] iou = new double[classes];
        for (int c = 0; c < classes; c++) {
            long u = pred[c] + lab[c] - inter[c];
            iou[c] = u == 0 ? Double.NaN : (double) inter[c] / u;
        }
        return new Validation(iou, counted == 0 ? Double.NaN : (double) correct / counted);
    }

    private void checkpoint(JitModule net, Adam adam, Path model, Path optim, Path state, int epochs, double seconds, ArrayNode history) {
        Path tmpModel = model.resolveSibling(model.getFileName() + ".tmp");
        Path tmpOptim = optim.resolveSibling(optim.getFileName() + ".tmp");
        net.save(tmpModel.toString());
        OutputArchive a = new OutputArchive();
        adam.save(a);
        a.save_to(tmpOptim.toString());
        try {
            Files.move(tmpModel, model, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmpOptim, optim, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SegsaException(model + ": cannot write checkpoint: " + e.getMessage(), e);
        }
        ObjectNode st = JSON.createObjectNode();
        st.put("epochsDone", epochs);
        st.put("seconds", seconds);
        st.set("history", history);
        try {
            AtomicOutput.write(state, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(st));
        } catch (IOException e) {
            throw new SegsaException(state + ": cannot write checkpoint state: " + e.getMessage(), e);
        }
    }

    /** Saves the trained network as TorchScript with its metadata (extra/segsa.json), and a model card beside it. */
    private void save(JitModule net, Validation v, double seconds, ArrayNode history) {
        ObjectNode meta = JSON.createObjectNode();
        ArrayNode mean = meta.putArray("mean");
        for (double m : s.mean()) mean.add(m);
        ArrayNode std = meta.putArray("std");
        for (double m : s.std()) std.add(m);
        meta.put("upsample", "bilinear");
        ArrayNode names = meta.putArray("classNames");
        s.classNames().forEach(names::add);
        meta.put("ignoreLabel", s.ignoreLabel());
        ObjectNode tr = meta.putObject("training");
        tr.put("command", s.command());
        tr.put("seed", s.seed());
        tr.put("threads", s.threads());
        tr.put("epochs", s.epochs());
        tr.put("minutes", seconds / 60);
        tr.put("architecture", "CompactSegNet d=" + s.features() + " head=" + head.id());
        tr.put("head", head.id());
        if (s.init() != null) tr.put("init", s.init().toString());
        if (v != null) {
            ObjectNode iou = tr.putObject("validationIou");
            for (int c = 0; c < s.classes(); c++) iou.put(s.classNames().get(c), v.iou()[c]);
            tr.put("validationMeanIou", v.meanIou());
        }
        tr.set("history", history);
        Path tmp = s.out().toAbsolutePath().resolveSibling("." + s.out().getFileName() + ".tmp");
        try {
            Files.createDirectories(tmp.getParent());
            ExtraFilesMap extra = new ExtraFilesMap();
            extra.put(new BytePointer("segsa.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
            net.save(tmp.toString(), extra);
            Files.move(tmp, s.out(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SegsaException(s.out() + ": cannot write model: " + e.getMessage(), e);
        }
        String card = card(v, seconds);
        String name = s.out().getFileName().toString();
        int dot = name.lastIndexOf('.');
        AtomicOutput.write(s.out().resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".md"),
                card.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        log.println(card);
    }

    private String card(Validation v, double seconds) {
        StringBuilder b = new StringBuilder();
        b.append("# ").append(s.out().getFileName()).append("\n\n");
        b.append("CompactSegNet, head `").append(head.id()).append("` (").append(s.features()).append(" ")
                .append(head.description()).append("; logits at full resolution), trained by `segsa train`")
                .append(s.init() != null ? ", fine-tuned from `" + s.init() + "`" : "").append(".\n\n");
        b.append("| | |\n|---|---|\n");
        b.append("| data | `").append(s.images()).append("` with `").append(s.labels()).append("` |\n");
        if (s.valImages() != null) b.append("| validation | `").append(s.valImages()).append("` |\n");
        b.append("| command | `").append(s.command()).append("` |\n");
        b.append(String.format(Locale.ROOT, "| training time | %.1f min, %d threads |%n", seconds / 60, s.threads()));
        b.append("| classes | ").append(String.join(", ", s.classNames())).append(" (ignore label ").append(s.ignoreLabel()).append(") |\n");
        if (v != null) {
            b.append(String.format(Locale.ROOT, "| validation mIoU | %.4f (pixel accuracy %.4f) |%n%n", v.meanIou(), v.pixelAccuracy()));
            b.append("| class | validation IoU |\n|---|---|\n");
            for (int c = 0; c < s.classes(); c++) {
                b.append(String.format(Locale.ROOT, "| %s | %.4f |%n", s.classNames().get(c), v.iou()[c]));
            }
        }
        return b.toString();
    }
}
