package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RespPasswordTest {
    @TempDir
    Path tmp;

    private Path file(String content, String perms) throws Exception {
        Path f = tmp.resolve("pw-" + perms);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void readsAPrivateFileAndIgnoresOneTrailingNewline() throws Exception {
        RespPassword p = RespPassword.fromFile(file("secret\n", "rw-------"));
        assertThat(p.matches("secret".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(p.matches("secret\n".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(p.matches("secre".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(p.matches(new byte[0])).isFalse();
        assertThat(p.toString()).doesNotContain("secret");
        assertThat(RespPassword.fromFile(file("secret", "r--------"))
                        .matches("secret".getBytes(StandardCharsets.UTF_8)))
                .isTrue();
    }

    @Test
    void refusesGroupOrWorldReadableAndEmptyFiles() throws Exception {
        assertThatThrownBy(() -> RespPassword.fromFile(file("secret", "rw-r-----")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("readable by its group or others (permissions rw-r-----)")
                .hasMessageContaining("chmod 600");
        assertThatThrownBy(() -> RespPassword.fromFile(file("secret", "rw----r--")))
                .hasMessageContaining("readable by its group or others");
        assertThatThrownBy(() -> RespPassword.fromFile(file("\n", "rw-------"))).hasMessageContaining("is empty");
        assertThatThrownBy(() -> RespPassword.fromFile(tmp.resolve("missing")))
                .hasMessageContaining("cannot read the password file");
    }
}
