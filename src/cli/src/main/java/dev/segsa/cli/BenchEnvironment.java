package dev.segsa.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** What segsa bench records of the machine and its inputs: load averages, file digests. */
final class BenchEnvironment {
    private BenchEnvironment() {}

    /**
     * The 1, 5 and 15 minute load averages from /proc/loadavg; elsewhere the 1 minute one of the OperatingSystemMXBean
     * (NaN for the others, and for all where the platform gives none).
     */
    static double[] loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1]), Double.parseDouble(p[2])};
        } catch (IOException | RuntimeException e) {
            double one = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return new double[] {one < 0 ? Double.NaN : one, Double.NaN, Double.NaN};
        }
    }

    /** The file's SHA-256 in lower-case hex. */
    static String sha256(Path file) throws IOException {
        return dev.segsa.io.FileDigest.sha256(file);
    }
}
