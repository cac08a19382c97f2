package dev.segsa.synth;

import java.util.Arrays;
import java.util.List;

/**
 * The segmentation classes of the paper's Table 2 (Kim et al., ESEC/FSE 2020), with exactly its
 * ids. Lanes are the class group 1-3, road markers the group 4-8. The one place the synthetic
 * generator's class ids and names are defined.
 */
public enum RoadClass {
    VOID(0, "Void"),
    LANE_WHITE(1, "Lanes (White)"),
    LANE_BLUE(2, "Lanes (Blue)"),
    LANE_YELLOW(3, "Lanes (Yellow)"),
    MARKER_ARROW(4, "Road Marker (Arrows)"),
    MARKER_SHAPE(5, "Road Marker (Shapes)"),
    MARKER_CHARACTER(6, "Road Marker (Characters)"),
    MARKER_NUMBER(7, "Road Marker (Numbers)"),
    MARKER_CROSS(8, "Road Marker (Crosses)"),
    TOLL_GATE_MARKER(9, "Toll Gate Marker"),
    VEHICLE(10, "Vehicles"),
    ROAD_AREA(11, "Road Area"),
    VEHICLE_WHEEL(12, "Vehicle Wheels"),
    GENERAL_STRUCTURE(13, "General Structures");

    /** Number of classes (ids 0..COUNT-1). */
    public static final int COUNT = 14;

    private final int id;
    private final String description;

    RoadClass(int id, String description) {
        this.id = id;
        this.description = description;
    }

    public int id() {
        return id;
    }

    /** The class description as in the paper's Table 2. */
    public String description() {
        return description;
    }

    public static RoadClass ofId(int id) {
        if (id < 0 || id >= COUNT) throw new IllegalArgumentException("no road class with id " + id + " (ids are 0.." + (COUNT - 1) + ")");
        return values()[id];
    }

    /** Class names in id order, short enough for a --class-names list (no commas). */
    public static List<String> names() {
        return Arrays.stream(values()).map(RoadClass::description).toList();
    }
}
