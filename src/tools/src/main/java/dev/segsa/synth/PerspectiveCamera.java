package dev.segsa.synth;

import java.awt.Shape;
import java.awt.geom.Path2D;
import java.awt.geom.PathIterator;

/**
 * A forward-looking pinhole camera above a road that curves with constant curvature. World
 * points are in road coordinates relative to the camera: {@code x} metres to the right,
 * {@code y} metres above the ground, {@code z} metres ahead. A point projects to
 * {@code u = cx + f (x + curvature z^2) / z} and {@code v = horizon + f (height - y) / z};
 * polygons are clipped at the near plane {@link #NEAR} and their edges subdivided where the
 * road bends, so curved lane lines stay curved.
 */
final class PerspectiveCamera {
    static final double NEAR = 0.6;

    final int width;
    final int height;
    final double focal;
    final double cx;
    final double horizon;
    final double mountHeight;
    final double curvature;

    PerspectiveCamera(int width, int height, double focal, double cx, double horizon, double mountHeight, double curvature) {
        this.width = width;
        this.height = height;
        this.focal = focal;
        this.cx = cx;
        this.horizon = horizon;
        this.mountHeight = mountHeight;
        this.curvature = curvature;
    }

    double u(double x, double z) {
        return cx + focal * (x + curvature * z * z) / z;
    }

    double v(double y, double z) {
        return horizon + focal * (mountHeight - y) / z;
    }

    /** Image row of the ground at distance z. */
    double groundRow(double z) {
        return v(0, z);
    }

    /** Pixels per metre at distance z. */
    double scale(double z) {
        return focal / z;
    }

    /**
     * A shape drawn flat on the ground: {@code local}'s x is the lateral position, its y the
     * distance ahead, both in metres relative to the camera.
     */
    Path2D.Float ground(Shape local) {
        Path2D.Float out = new Path2D.Float(Path2D.WIND_NON_ZERO);
        PathIterator it = local.getPathIterator(null, 0.02);
        if (it.getWindingRule() == PathIterator.WIND_EVEN_ODD) out.setWindingRule(Path2D.WIND_EVEN_ODD);
        double[] c = new double[6];
        double[] poly = new double[96];
        int n = 0;
        while (!it.isDone()) {
            int type = it.currentSegment(c);
            if (type == PathIterator.SEG_MOVETO) {
                if (n >= 3) polygon(poly, n, out);
                n = 0;
            }
            if (type == PathIterator.SEG_MOVETO || type == PathIterator.SEG_LINETO) {
                if (3 * n + 3 > poly.length) poly = java.util.Arrays.copyOf(poly, poly.length * 2);
                poly[3 * n] = c[0];
                poly[3 * n + 1] = 0;
                poly[3 * n + 2] = c[1];
                n++;
            } else if (type == PathIterator.SEG_CLOSE) {
                if (n >= 3) polygon(poly, n, out);
                n = 0;
            }
            it.next();
        }
        if (n >= 3) polygon(poly, n, out);
        return out;
    }

    /** A planar polygon given as x, y, z triples (metres, relative to the camera). */
    Path2D.Float polygon(double... xyz) {
        Path2D.Float out = new Path2D.Float(Path2D.WIND_NON_ZERO);
        polygon(xyz, xyz.length / 3, out);
        return out;
    }

    /** A vertical rectangle facing the camera at distance z: x0..x1, y0..y1. */
    Path2D.Float front(double x0, double x1, double y0, double y1, double z) {
        return polygon(x0, y0, z, x1, y0, z, x1, y1, z, x0, y1, z);
    }

    /** A vertical rectangle along the road at lateral position x: z0..z1, y0..y1. */
    Path2D.Float side(double x, double z0, double z1, double y0, double y1) {
        return polygon(x, y0, z0, x, y0, z1, x, y1, z1, x, y1, z0);
    }

    /** Clips the polygon at z >= NEAR, subdivides long edges in z, projects and appends it to {@code out}. */
    private void polygon(double[] p, int n, Path2D.Float out) {
        double[] clipped = new double[3 * (2 * n + 2)];
        int m = 0;
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            double za = p[3 * i + 2], zb = p[3 * j + 2];
            boolean ina = za >= NEAR, inb = zb >= NEAR;
            if (ina) {
                System.arraycopy(p, 3 * i, clipped, 3 * m, 3);
                m++;
            }
            if (ina != inb) {
                double t = (NEAR - za) / (zb - za);
                clipped[3 * m] = p[3 * i] + t * (p[3 * j] - p[3 * i]);
                clipped[3 * m + 1] = p[3 * i + 1] + t * (p[3 * j + 1] - p[3 * i + 1]);
                clipped[3 * m + 2] = NEAR;
                m++;
            }
        }
        if (m < 3) return;
        boolean first = true;
        for (int i = 0; i < m; i++) {
            int j = (i + 1) % m;
            double xa = clipped[3 * i], ya = clipped[3 * i + 1], za = clipped[3 * i + 2];
            double xb = clipped[3 * j], yb = clipped[3 * j + 1], zb = clipped[3 * j + 2];
            int pieces = 1;
            double ratio = Math.max(za, zb) / Math.min(za, zb);
            if (curvature != 0 && ratio > 1.12) pieces = (int) Math.min(96, Math.ceil(Math.log(ratio) / Math.log(1.1)));
            for (int k = 0; k < pieces; k++) {
                double z = k == 0 ? za : za * Math.pow(zb / za, (double) k / pieces);
                double t = zb == za ? 0 : (z - za) / (zb - za);
                double x = xa + t * (xb - xa), y = ya + t * (yb - ya);
                float u = (float) u(x, z), v = (float) v(y, z);
                if (first) {
                    out.moveTo(u, v);
                    first = false;
                } else {
                    out.lineTo(u, v);
                }
            }
        }
        out.closePath();
    }
}
