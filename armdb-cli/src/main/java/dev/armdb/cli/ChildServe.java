package dev.armdb.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts {@code armdb serve} as a child process of this JVM (same java, same class path), for the commands that run
 * nodes of their own (aot-train, cluster-demo). The child stops cleanly when this process goes, even by SIGKILL
 * ({@code --exit-with-parent}), and writes its output to a log file.
 *
 * <p>Threading: stateless; any thread.
 */
final class ChildServe {
    private ChildServe() {}

    /**
     * Starts {@code serve} with {@code jvmOptions} for the child JVM and {@code serveOptions} after its own, its
     * standard output and error going to {@code log}.
     */
    static Process start(List<String> jvmOptions, List<String> serveOptions, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve"));
        cmd.add("--exit-with-parent");
        cmd.addAll(serveOptions);
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }
}
