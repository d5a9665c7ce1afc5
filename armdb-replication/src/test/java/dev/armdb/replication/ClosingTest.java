package dev.armdb.replication;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A test that works in a temporary directory and closes what it tracked after each test, newest first. */
abstract class ClosingTest {
    @TempDir
    Path tmp;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** Closes {@code c} after the test. */
    <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
    }
}
