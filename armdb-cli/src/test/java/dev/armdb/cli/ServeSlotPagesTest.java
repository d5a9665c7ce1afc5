package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code serve --slot-pages}: private slot pages by default, shared on request, for the size options of a new
 * collection and for an existing one alike. Mutation check: leaving {@code privateSlotPages} out of {@link
 * ServeCommand#config} fails {@link #sharedOnRequestForNewAndExistingCollections}.
 */
class ServeSlotPagesTest {
    private static ServeCommand parsed(String... args) {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return serve;
    }

    @Test
    void privateByDefault(@TempDir Path dir) throws Exception {
        FixedConfig cfg = parsed("--dir", dir.toString(), "--key-size", "16", "--value-size", "32")
                .config();
        assertThat(cfg.privateSlotPages()).isTrue();
    }

    @Test
    void sharedOnRequestForNewAndExistingCollections(@TempDir Path dir) throws Exception {
        FixedConfig created = parsed(
                        "--dir", dir.toString(), "--key-size", "16", "--value-size", "32", "--slot-pages", "shared")
                .config();
        assertThat(created.privateSlotPages()).isFalse();
        dev.armdb.FixedMap.open(dir, created).close();
        FixedConfig reopened =
                parsed("--dir", dir.toString(), "--slot-pages", "SHARED").config();
        assertThat(reopened.privateSlotPages()).isFalse();
        assertThat(parsed("--dir", dir.toString()).config().privateSlotPages())
                .as("a restart without the option maps privately again: the setting is not stored")
                .isTrue();
    }

    @Test
    void refusesAnUnknownValue(@TempDir Path dir) {
        CommandLine cl = new CommandLine(new ServeCommand()).setCaseInsensitiveEnumValuesAllowed(true);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> cl.parseArgs("--dir", dir.toString(), "--slot-pages", "mapped"))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--slot-pages")
                .hasMessageContaining("mapped");
    }
}
