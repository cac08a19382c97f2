package dev.segsa.scores;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named groups of classes, from a spec such as {@code "lanes=1,2,3;markers=4,5,6,7,8"}. Members
 * are class ids or class names. Groups are configuration, not code.
 */
public record ClassGroups(List<Group> groups) {
    public record Group(String name, int[] classes) {
        public boolean contains(int c) {
            for (int x : classes) if (x == c) return true;
            return false;
        }
    }

    /** The group names of a spec ("movers=Car,Pedestrian;thin=Pole"), without checking the members. */
    public static java.util.Set<String> names(String spec) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        if (spec == null || spec.isBlank()) return names;
        for (String part : spec.split(";")) {
            if (part.isBlank()) continue;
            int eq = part.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--groups: '" + part + "' is not NAME=CLASS,CLASS");
            names.add(part.substring(0, eq).trim());
        }
        return names;
    }

    public static ClassGroups none() {
        return new ClassGroups(List.of());
    }

    public static ClassGroups parse(String spec, List<String> classNames) {
        if (spec == null || spec.isBlank()) return none();
        Map<String, Group> out = new LinkedHashMap<>();
        for (String part : spec.split(";")) {
            if (part.isBlank()) continue;
            int eq = part.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("group '" + part.trim() + "' must look like name=1,2,3");
            String name = part.substring(0, eq).trim();
            if (classNames.contains(name) || name.matches("\\d+")) {
                throw new IllegalArgumentException("group name '" + name + "' clashes with a class name or id");
            }
            if (out.containsKey(name)) throw new IllegalArgumentException("group '" + name + "' is defined twice");
            List<Integer> ids = new ArrayList<>();
            for (String m : part.substring(eq + 1).split(",")) {
                String t = m.trim();
                if (t.isEmpty()) continue;
                int id = classNames.indexOf(t);
                if (id < 0) {
                    try {
                        id = Integer.parseInt(t);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("group '" + name + "': '" + t + "' is neither a class id nor a class name");
                    }
                }
                if (id < 0 || id >= classNames.size()) {
                    throw new IllegalArgumentException("group '" + name + "': class " + id + " is out of range 0.." + (classNames.size() - 1));
                }
                if (!ids.contains(id)) ids.add(id);
            }
            if (ids.isEmpty()) throw new IllegalArgumentException("group '" + name + "' has no classes");
            out.put(name, new Group(name, ids.stream().mapToInt(Integer::intValue).toArray()));
        }
        return new ClassGroups(List.copyOf(out.values()));
    }
}
