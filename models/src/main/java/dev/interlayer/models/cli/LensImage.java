package dev.interlayer.models.cli;

import dev.interlayer.nn.readout.LogitLens;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

// The logit-lens heat map: one CELL x CELL square per (tap, position), tap 0 in the top row, position 0 in the
// left column; colour = the top token's probability on a dark-blue (0) to yellow (1) ramp.
final class LensImage {
    static final int CELL = 16;

    private LensImage() {
    }

    static int width(LogitLens.Cell[][] table) {
        return table[0].length * CELL;
    }

    static int height(LogitLens.Cell[][] table) {
        return table.length * CELL;
    }

    static void write(LogitLens.Cell[][] table, Path file) throws IOException {
        BufferedImage img = new BufferedImage(width(table), height(table), BufferedImage.TYPE_INT_RGB);
        for (int l = 0; l < table.length; l++) {
            for (int t = 0; t < table[l].length; t++) {
                int rgb = colour(table[l][t].probability());
                for (int y = l * CELL; y < (l + 1) * CELL; y++) {
                    for (int x = t * CELL; x < (t + 1) * CELL; x++) {
                        img.setRGB(x, y, rgb);
                    }
                }
            }
        }
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer in this Java runtime");
        }
    }

    // p in [0, 1] -> RGB: linear ramp from (20, 20, 90) through (30, 150, 140) to (250, 230, 40)
    static int colour(double p) {
        double q = Math.max(0, Math.min(1, p));
        int[] a = q < 0.5 ? new int[] {20, 20, 90} : new int[] {30, 150, 140};
        int[] b = q < 0.5 ? new int[] {30, 150, 140} : new int[] {250, 230, 40};
        double f = q < 0.5 ? q * 2 : (q - 0.5) * 2;
        int r = (int) Math.round(a[0] + f * (b[0] - a[0]));
        int g = (int) Math.round(a[1] + f * (b[1] - a[1]));
        int bl = (int) Math.round(a[2] + f * (b[2] - a[2]));
        return (r << 16) | (g << 8) | bl;
    }
}
