package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProtectedModeTest {
    private static final NodeConfig OPEN = new NodeConfig(Path.of("x"), null, null, null, null, null);

    @Test
    void withoutAPasswordOnlyLoopbackClientsAreServed() throws Exception {
        InetAddress remote = InetAddress.getByAddress(new byte[] {10, 1, 2, 3});
        InetAddress v6 = InetAddress.getByName("2001:db8::1");
        assertThat(ProtectedMode.admits(OPEN, InetAddress.getByName("127.0.0.1")))
                .isTrue();
        assertThat(ProtectedMode.admits(OPEN, InetAddress.getByName("127.5.6.7")))
                .isTrue();
        assertThat(ProtectedMode.admits(OPEN, InetAddress.getByName("::1"))).isTrue();
        assertThat(ProtectedMode.admits(OPEN, remote)).isFalse();
        assertThat(ProtectedMode.admits(OPEN, v6)).isFalse();
        assertThat(ProtectedMode.admits(OPEN.withRequirePass(RespPassword.of("pw")), remote))
                .isTrue();
        assertThat(ProtectedMode.admits(OPEN.withProtectedMode(false), remote)).isTrue();
        assertThat(new String(ProtectedMode.DENIED_REPLY, java.nio.charset.StandardCharsets.US_ASCII))
                .startsWith("-DENIED ")
                .endsWith("\r\n");
    }
}
