package dev.segsa.spark;

import dev.segsa.error.SegsaException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pairs frames with label masks by file name, as {@code segsa fit} does for folders: the mask has
 * the frame's file name, or the frame's name with its extension replaced by ".png". A frame
 * without a mask is an error that lists the first few; masks without a frame are ignored.
 */
final class FramePairs {
    private FramePairs() {}

    static String fileName(String path) {
        int slash = path.lastIndexOf('/');
        return slash >= 0 ? path.substring(slash + 1) : path;
    }

    /** Frame path -> mask path, in the frames' order. */
    static Map<String, String> pair(List<String> frames, List<String> masks) {
        Map<String, String> byName = new HashMap<>();
        for (String m : masks) {
            String previous = byName.put(fileName(m), m);
            if (previous != null) {
                throw new SegsaException("two label masks share the file name " + fileName(m) + ": " + previous + " and " + m);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> frameByName = new HashMap<>();
        List<String> unpaired = new ArrayList<>();
        for (String f : frames) {
            String name = fileName(f);
            String previous = frameByName.put(name, f);
            if (previous != null) throw new SegsaException("two frames share the file name " + name + ": " + previous + " and " + f);
            String m = byName.get(name);
            if (m == null) {
                int dot = name.lastIndexOf('.');
                m = byName.get((dot > 0 ? name.substring(0, dot) : name) + ".png");
            }
            if (m == null) unpaired.add(f);
            else out.put(f, m);
        }
        if (!unpaired.isEmpty()) {
            throw new SegsaException(unpaired.size() + " frame(s) have no label mask of the same name, e.g. "
                    + String.join(", ", unpaired.subList(0, Math.min(5, unpaired.size()))));
        }
        return out;
    }
}
