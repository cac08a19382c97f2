package dev.segsa.example;

import dev.segsa.Segsa;
import dev.segsa.score.FrameResult;
import dev.segsa.stream.ClipBuffer;
import dev.segsa.stream.DHash;
import dev.segsa.stream.SelectorConfig;
import dev.segsa.stream.StreamSelector;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The README's recorder example of {@link StreamSelector} with {@link DHash} and
 * {@link ClipBuffer}, compiled and run by {@code SelectorExampleTest} (which also checks that the
 * README shows exactly the code between the markers).
 */
public final class SelectorExample {
    private SelectorExample() {}

    /** Keeps 10% of {@code frames} (one camera at {@code fps}) with a second of clip around each; returns the names written. */
    static List<String> run(Segsa segsa, List<BufferedImage> frames, double fps) {
        List<String> written = new ArrayList<>();
        // README:start
        // the class-aware score when the SA file has a class reference (segsa fit records one), else image MDSA
        SelectorConfig config = SelectorConfig.bestFrameScoreShare(0.10, segsa.saModel())
                .withClip(0.5, 0.5).withDiversity(6, 32);  // 0.5 s clips, dHash gate
        StreamSelector selector = segsa.selector(config);
        ClipBuffer<BufferedImage> clips = new ClipBuffer<>(config.preSeconds(), config.postSeconds(), 64, 256L << 20);
        Map<Long, Double> times = new HashMap<>();  // frames waiting for their window's decision
        for (int i = 0; i < frames.size(); i++) {
            BufferedImage image = frames.get(i);
            double t = i / fps;
            for (ClipBuffer.Timed<BufferedImage> c : clips.push(image, i, t, 0)) written.add("clip " + c.index());
            FrameResult r = segsa.score(image, "cam0/" + i);
            times.put((long) i, t);
            // the decisions come when a window closes (2 s by default), for the frames of that window
            for (StreamSelector.Decision d : selector.offer(0, r, t, DHash.descriptor(image), 0)) {
                if (d.keep()) for (ClipBuffer.Timed<BufferedImage> c : clips.keep(d.frame(), times.get(d.frame()))) written.add("kept " + c.index());
                times.remove(d.frame());
            }
        }
        for (StreamSelector.Decision d : selector.flush()) {  // the end of the stream: the last window's frames
            if (d.keep()) for (ClipBuffer.Timed<BufferedImage> c : clips.keep(d.frame(), times.get(d.frame()))) written.add("kept " + c.index());
        }
        // README:end
        return written;
    }
}
