package dev.segsa.synth;

/** Lighting of a synthetic frame: daylight, dusk (low warm light), night (headlights, glare). */
public enum TimeOfDay {
    DAY, DUSK, NIGHT
}
