package dev.segsa.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The one reader of JSON that segsa takes from outside (selector configurations, model metadata,
 * the risk model's body). Parsing refuses what a lenient reader would silently resolve: a key
 * given twice in one object, anything but white space after the value, {@code NaN} and
 * {@code Infinity} tokens (not JSON numbers). The accessors of {@link Obj} read one field each with
 * its type and its range declared at the call site, and never cast: an integer field refuses
 * {@code 2.5} and any value outside its range ({@code 1e20}), a number field refuses a value outside
 * its range, and every range is finite. Every error is one line naming the field's path
 * ({@code budget.warmupFrames must be an integer in [0, 1000000], got 2.5}); the caller prefixes
 * the file.
 */
public final class StrictJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private StrictJson() {}

    /**
     * The range of a number field: finite bounds, each open or closed. Declared once next to the
     * field's name; {@link #check} and {@link #checkInteger} hold values built in code to it too.
     */
    public record Range(double lo, boolean loOpen, double hi, boolean hiOpen) {
        /** Every finite number. */
        public static final Range FINITE = closed(-Double.MAX_VALUE, Double.MAX_VALUE);
        /** Every Java {@code int}. */
        public static final Range INT = closed(Integer.MIN_VALUE, Integer.MAX_VALUE);

        public Range {
            if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
                throw new IllegalArgumentException("bad range " + lo + " .. " + hi);
            }
        }

        /** [lo, hi] */
        public static Range closed(double lo, double hi) {
            return new Range(lo, false, hi, false);
        }

        /** (lo, hi] */
        public static Range openClosed(double lo, double hi) {
            return new Range(lo, true, hi, false);
        }

        public boolean contains(double v) {
            return (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
        }

        /** {@code v}, or an error {@code PATH must be in RANGE, got V}. */
        public double check(String path, double v) {
            if (!contains(v)) throw new SegsaException(path + " must be " + inRange() + ", got " + format(v));
            return v;
        }

        /** {@code v}, or an error {@code PATH must be an integer in RANGE, got V}. */
        public long checkInteger(String path, long v) {
            if (!contains(v)) throw new SegsaException(path + " must be an integer in " + this + ", got " + v);
            return v;
        }

        private boolean isFinite() {
            return lo == -Double.MAX_VALUE && hi == Double.MAX_VALUE;
        }

        /** {@code in (0, 1]}, or {@code a finite number} for {@link #FINITE}. */
        private String inRange() {
            return isFinite() ? "a finite number" : "in " + this;
        }

        @Override
        public String toString() {
            return (loOpen ? "(" : "[") + format(lo) + ", " + format(hi) + (hiOpen ? ")" : "]");
        }
    }

    /** A number as people write it: {@code 86400}, {@code 0.5}, {@code 1.0E300}. */
    static String format(double v) {
        if (!Double.isFinite(v)) return Double.toString(v);
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        if (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e15) return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
        return Double.toString(v);
    }

    /**
     * Parses {@code json}, which must be one JSON object; {@code what} names the document in
     * errors ({@code selector configuration is not valid JSON: ...}).
     */
    public static Obj parseObject(String json, String what) {
        JsonNode n = parse(json, what);
        if (!n.isObject()) throw new SegsaException(what + " must be a JSON object, got " + show(n));
        return new Obj(n, "");
    }

    /** Parses {@code json}: one JSON value and nothing after it but white space. */
    public static JsonNode parse(String json, String what) {
        try (JsonParser p = MAPPER.createParser(json)) {
            JsonNode n;
            try {
                n = MAPPER.readTree(p);
            } catch (JsonProcessingException e) {
                throw new SegsaException(what + " is not valid JSON: " + describe(e), e);
            }
            if (n == null || n.isMissingNode()) throw new SegsaException(what + " is empty (expected JSON)");
            JsonLocation end = p.currentLocation();
            boolean trailing;
            try {
                trailing = p.nextToken() != null;
            } catch (JsonProcessingException e) {
                trailing = true;
            }
            if (trailing) {
                throw new SegsaException(what + " is not valid JSON: content after the end of the value (line " + end.getLineNr()
                        + ", column " + end.getColumnNr() + ")");
            }
            return n;
        } catch (IOException e) {
            throw new SegsaException(what + " is not valid JSON: " + firstLine(e.getMessage()), e);
        }
    }

    /** Jackson's message, first line, without its advice to enable features, with the field's path and the location. */
    private static String describe(JsonProcessingException e) {
        String m = firstLine(e.getOriginalMessage());
        int advice = m.indexOf(": enable `");
        if (advice > 0) m = m.substring(0, advice) + " (NaN and Infinity are not JSON numbers)";
        m = m.replaceFirst("^Duplicate (?:field|Object property) '(.*)'$", "key \"$1\" given twice");
        String path = e.getProcessor() instanceof JsonParser p ? path(p.getParsingContext()) : "";
        JsonLocation at = e.getLocation();
        return m + (path.isEmpty() ? "" : " at " + path)
                + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
    }

    private static String path(JsonStreamContext ctx) {
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) parts.addFirst("." + c.getCurrentName());
            else if (c.inArray()) parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
        }
        String s = String.join("", parts);
        return s.startsWith(".") ? s.substring(1) : s;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A value as it appears in an error: numbers and strings as written, long values cut. */
    static String show(JsonNode v) {
        String s = v.isNumber() ? (v.isFloatingPointNumber() ? format(v.doubleValue()) : v.asText()) : v.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    /** A JSON object and its path from the document's root ({@code ""} for the root). */
    public static final class Obj {
        private final JsonNode node;
        private final String path;

        Obj(JsonNode node, String path) {
            this.node = node;
            this.path = path;
        }

        /** This object's path ({@code ""} for the root, {@code triggers[0]}, {@code budget}). */
        public String path() {
            return path;
        }

        /** The path of a field of this object. */
        public String path(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        /** Refuses a field not among {@code keys}: {@code PATH.f: unknown field (known: ...)}. */
        public Obj known(String... keys) {
            Set<String> ok = Set.of(keys);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!ok.contains(f)) throw new SegsaException(path(f) + ": unknown field (known: " + String.join(", ", keys) + ")");
            }
            return this;
        }

        /** Whether the field is present and not {@code null} (a {@code null} reads as absent). */
        public boolean has(String key) {
            JsonNode v = node.get(key);
            return v != null && !v.isNull();
        }

        /** The field's node, present and not null. */
        public JsonNode node(String key) {
            if (!has(key)) throw new SegsaException(path(key) + " is missing");
            return node.get(key);
        }

        public String string(String key) {
            JsonNode v = node(key);
            if (!v.isTextual()) throw new SegsaException(path(key) + " must be a string, got " + show(v));
            return v.textValue();
        }

        public String string(String key, String dflt) {
            return has(key) ? string(key) : dflt;
        }

        public boolean bool(String key) {
            JsonNode v = node(key);
            if (!v.isBoolean()) throw new SegsaException(path(key) + " must be true or false, got " + show(v));
            return v.booleanValue();
        }

        public boolean bool(String key, boolean dflt) {
            return has(key) ? bool(key) : dflt;
        }

        /** A number in {@code range} (finite bounds, so never NaN nor infinite). */
        public double number(String key, Range range) {
            return number(node(key), path(key), range);
        }

        public double number(String key, Range range, double dflt) {
            return has(key) ? number(key, range) : dflt;
        }

        /** An integer in {@code range}, which lies within Java's {@code int}. */
        public int integer(String key, Range range) {
            return (int) integer(node(key), path(key), intRange(range));
        }

        public int integer(String key, Range range, int dflt) {
            return has(key) ? integer(key, range) : dflt;
        }

        /** An integer in {@code range}, as a {@code long} (written with a fraction or an exponent: exact up to 2^53). */
        public long longInteger(String key, Range range) {
            return integer(node(key), path(key), range);
        }

        public long longInteger(String key, Range range, long dflt) {
            return has(key) ? longInteger(key, range) : dflt;
        }

        /** The field's object. */
        public Obj object(String key) {
            JsonNode v = node(key);
            if (!v.isObject()) throw new SegsaException(path(key) + " must be an object, got " + show(v));
            return new Obj(v, path(key));
        }

        /** The field's object, or null when absent. */
        public Obj optionalObject(String key) {
            return has(key) ? object(key) : null;
        }

        /** The field's array of objects, {@code PATH[i]} each. */
        public List<Obj> objects(String key) {
            JsonNode a = array(key);
            List<Obj> out = new ArrayList<>(a.size());
            for (int i = 0; i < a.size(); i++) {
                JsonNode v = a.get(i);
                String at = path(key) + "[" + i + "]";
                if (!v.isObject()) throw new SegsaException(at + " must be an object, got " + show(v));
                out.add(new Obj(v, at));
            }
            return out;
        }

        /** The field's array of strings. */
        public List<String> strings(String key) {
            JsonNode a = array(key);
            List<String> out = new ArrayList<>(a.size());
            for (int i = 0; i < a.size(); i++) {
                JsonNode v = a.get(i);
                if (!v.isTextual()) throw new SegsaException(path(key) + "[" + i + "] must be a string, got " + show(v));
                out.add(v.textValue());
            }
            return out;
        }

        /** The field's array of numbers, each in {@code range}. */
        public double[] numbers(String key, Range range) {
            JsonNode a = array(key);
            double[] out = new double[a.size()];
            for (int i = 0; i < out.length; i++) out[i] = number(a.get(i), path(key) + "[" + i + "]", range);
            return out;
        }

        /** The field's array of integers, each in {@code range} (within Java's {@code int}). */
        public int[] integers(String key, Range range) {
            Range r = intRange(range);
            JsonNode a = array(key);
            int[] out = new int[a.size()];
            for (int i = 0; i < out.length; i++) out[i] = (int) integer(a.get(i), path(key) + "[" + i + "]", r);
            return out;
        }

        /** The field's array node. */
        public JsonNode array(String key) {
            JsonNode v = node(key);
            if (!v.isArray()) throw new SegsaException(path(key) + " must be an array, got " + show(v));
            return v;
        }

        private static Range intRange(Range r) {
            if (r.lo() < Integer.MIN_VALUE || r.hi() > Integer.MAX_VALUE) throw new IllegalArgumentException(r + " is beyond int");
            return r;
        }

        private static double number(JsonNode v, String path, Range range) {
            if (!v.isNumber()) {
                throw new SegsaException(path + " must be " + (range.isFinite() ? "a finite number" : "a number in " + range) + ", got "
                        + show(v));
            }
            double d = v.doubleValue();
            if (!range.contains(d)) throw new SegsaException(path + " must be " + range.inRange() + ", got " + show(v));
            return d;
        }

        private static long integer(JsonNode v, String path, Range range) {
            boolean ok;
            long x = 0;
            if (v.isIntegralNumber()) {
                ok = v.canConvertToLong();
                if (ok) x = v.longValue();
            } else if (v.isFloatingPointNumber()) {
                // 30.0 or 3e1 is the integer 30, exactly; 2.5 and 1e20 are refused, never cast
                double d = v.doubleValue();
                ok = d == Math.rint(d) && Math.abs(d) < 0x1p53;
                if (ok) x = (long) d;
            } else {
                ok = false;
            }
            if (!ok || !range.contains(x)) throw new SegsaException(path + " must be an integer in " + range + ", got " + show(v));
            return x;
        }
    }
}
