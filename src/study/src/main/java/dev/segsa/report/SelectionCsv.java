package dev.segsa.report;

import dev.segsa.io.AtomicOutput;
import dev.segsa.scores.ScoresCsv;

import dev.segsa.evaluate.FrameSelection;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The lists written by {@code segsa select}, atomically:
 * <ul>
 *   <li>labelling list: {@code rank,image,score,pixels,decision}: rank 1 = highest score (most
 *       worth labelling); decision = {@code label} or {@code skip}; score empty when the frame
 *       has no score for the target (always labelled);</li>
 *   <li>retraining subsets: {@code level,size,image,score,pixels} with level High/Low/Random and
 *       size Small/Medium/Large.</li>
 * </ul>
 */
public final class SelectionCsv {
    public static final String LABELLING_HEADER = "rank,image,score,pixels,decision";
    public static final String RETRAIN_HEADER = "level,size,image,score,pixels";

    private SelectionCsv() {}

    public static void writeLabelling(Path out, List<FrameSelection.Decision> decisions) {
        StringBuilder b = new StringBuilder(LABELLING_HEADER).append('\n');
        for (FrameSelection.Decision d : decisions) {
            b.append(d.rank()).append(',').append(ScoresCsv.field(d.candidate().image())).append(',')
                    .append(ScoresCsv.number(d.candidate().score())).append(',').append(d.candidate().pixels()).append(',')
                    .append(d.skip() ? "skip" : "label").append('\n');
        }
        AtomicOutput.write(out, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    public static void writeRetrain(Path out, List<FrameSelection.RetrainSubset> subsets) {
        StringBuilder b = new StringBuilder(RETRAIN_HEADER).append('\n');
        for (FrameSelection.RetrainSubset s : subsets) {
            for (FrameSelection.Candidate c : s.frames()) {
                b.append(s.level()).append(',').append(s.size()).append(',').append(ScoresCsv.field(c.image())).append(',')
                        .append(ScoresCsv.number(c.score())).append(',').append(c.pixels()).append('\n');
            }
        }
        AtomicOutput.write(out, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** File name of the combined list when {@code --out} is a directory. */
    public static final String RETRAIN_FILE = "subsets.csv";

    /**
     * Into a directory: {@value #RETRAIN_FILE} (every subset, as {@link #writeRetrain}) and one
     * image list per subset, {@code <level>-<size>.txt} (e.g. {@code high-small.txt}), one file name a line.
     */
    public static void writeRetrainDirectory(Path dir, List<FrameSelection.RetrainSubset> subsets) {
        writeRetrain(dir.resolve(RETRAIN_FILE), subsets);
        for (FrameSelection.RetrainSubset s : subsets) {
            StringBuilder b = new StringBuilder();
            for (FrameSelection.Candidate c : s.frames()) b.append(c.image()).append('\n');
            String name = (s.level() + "-" + s.size()).toLowerCase(java.util.Locale.ROOT) + ".txt";
            AtomicOutput.write(dir.resolve(name), b.toString().getBytes(StandardCharsets.UTF_8));
        }
    }
}
