package dev.segsa.score;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A frame's segments (connected components of its predicted classes, 8-neighbourhood) with their
 * features ({@link dev.segsa.segments.SegmentFeatures}, heat maps mdsa, entropy, margin; no IoU_adj: that needs
 * labels), and, with a risk model, the frame's risk. The rows are a read-only view of the
 * scorer's native buffer: valid until the next frame is scored on the same thread, like the MDSA
 * map; {@link #copyRows()} keeps them.
 *
 * @param count      segments
 * @param columns    columns of a row
 * @param rows       [count * columns] float64, row-major
 * @param risk       one minus the predicted frame mIoU (NaN without a risk model)
 * @param failedArea the expected failed share of the frame, class-weighted (NaN without a risk model)
 * @param classRisk  per class one minus its predicted IoU (NaN where not predicted), or null without a risk model
 */
public record FrameSegments(int count, int columns, MemorySegment rows, double risk, double failedArea, double[] classRisk) {

    /** Column {@code column} of segment {@code segment}. */
    public double value(int segment, int column) {
        if (segment < 0 || segment >= count || column < 0 || column >= columns) {
            throw new IndexOutOfBoundsException("segment " + segment + " of " + count + ", column " + column + " of " + columns);
        }
        return rows.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) segment * columns + column);
    }

    /** A copy of the rows. */
    public double[] copyRows() {
        return rows.toArray(ValueLayout.JAVA_DOUBLE);
    }
}
