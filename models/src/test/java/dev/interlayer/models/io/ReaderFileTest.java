package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

// The fixture of a model reader's tests (OnnxModelTest, SafetensorsTest): files written into a temporary folder,
// and corrupt ones that opening must refuse with a ModelFormatException.
abstract class ReaderFileTest {
    @TempDir
    Path dir;

    private final String corruptName;   // corrupt files are written under it (its extension names the format)
    private final Reader reader;

    // opens a file with the reader under test
    interface Reader {
        AutoCloseable open(Path p) throws IOException;
    }

    ReaderFileTest(String corruptName, Reader reader) {
        this.corruptName = corruptName;
        this.reader = reader;
    }

    Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    ModelFormatException corrupt(byte[] bytes) throws IOException {
        Path p = write(corruptName, bytes);
        return assertThrows(ModelFormatException.class, () -> reader.open(p).close());
    }
}
