package dev.segsa.cli;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

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
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
