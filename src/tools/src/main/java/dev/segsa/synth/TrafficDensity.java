package dev.segsa.synth;

/** How many vehicles share the road: none, light (1 to 4 in view) or heavy (8 to 16, slow, close together). */
public enum TrafficDensity {
    NONE(0, 0), LIGHT(1, 4), HEAVY(8, 16);

    private final int minVehicles;
    private final int maxVehicles;

    TrafficDensity(int minVehicles, int maxVehicles) {
        this.minVehicles = minVehicles;
        this.maxVehicles = maxVehicles;
    }

    public int minVehicles() {
        return minVehicles;
    }

    public int maxVehicles() {
        return maxVehicles;
    }
}
