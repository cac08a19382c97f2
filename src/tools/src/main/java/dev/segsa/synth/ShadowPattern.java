package dev.segsa.synth;

/**
 * Shadows cast on the road. {@code NONE}: only the contact shadows under vehicles.
 * {@code COMPLEX}: dappled tree shadows and structure shadows (poles, gantries, buildings) across the road.
 */
public enum ShadowPattern {
    NONE, COMPLEX
}
