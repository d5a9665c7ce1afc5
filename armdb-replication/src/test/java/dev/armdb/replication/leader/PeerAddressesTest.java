package dev.armdb.replication.leader;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which dialed addresses name a leader: its connection's own address (IP literals in any spelling), {@code
 * localhost} only on loopback, advertised names exactly; never a name by resolving it, never another port.
 */
class PeerAddressesTest {
    private static InetSocketAddress at(String ip, int port) {
        return new InetSocketAddress(InetAddress.ofLiteral(ip), port);
    }

    @Test
    void theConnectionsOwnAddressInAnySpellingMatches() {
        PeerAddresses none = new PeerAddresses(List.of());
        assertThat(none.answersOn(at("10.0.0.5", 7380), "10.0.0.5", 7380)).isTrue();
        assertThat(none.answersOn(at("10.0.0.5", 7380), "10.0.0.5", 7381))
                .as("other port")
                .isFalse();
        assertThat(none.answersOn(at("10.0.0.5", 7380), "10.0.0.6", 7380))
                .as("other host")
                .isFalse();
        assertThat(none.answersOn(at("::1", 7380), "0:0:0:0:0:0:0:1", 7380)).isTrue();
        assertThat(none.answersOn(at("::1", 7380), "[::1]", 7380)).isTrue();
        assertThat(none.answersOn(at("fe80::1", 7380), "FE80::1", 7380)).isTrue();
    }

    @Test
    void localhostMatchesOnlyALoopbackConnection() {
        PeerAddresses none = new PeerAddresses(List.of());
        assertThat(none.answersOn(at("127.0.0.1", 7380), "localhost", 7380)).isTrue();
        assertThat(none.answersOn(at("127.0.0.1", 7380), "LOCALHOST", 7380)).isTrue();
        assertThat(none.answersOn(at("10.0.0.5", 7380), "localhost", 7380))
                .as("localhost dialed, but the connection arrived from the network: a relay")
                .isFalse();
    }

    @Test
    void namesMatchOnlyWhenAdvertisedAndAreNeverResolved() {
        PeerAddresses none = new PeerAddresses(List.of());
        // names that resolve to loopback on many hosts are still refused: the leader never resolves
        assertThat(none.answersOn(at("127.0.0.1", 7380), "localhost.localdomain", 7380))
                .isFalse();
        assertThat(none.answersOn(at("10.0.0.5", 7380), "db1.internal", 7380)).isFalse();

        PeerAddresses adv = new PeerAddresses(List.of("DB1.internal:7380", "203.0.113.9:17380", "[2001:db8::9]:7380"));
        assertThat(adv.answersOn(at("10.0.0.5", 7380), "db1.INTERNAL", 7380)).isTrue();
        assertThat(adv.answersOn(at("10.0.0.5", 7380), "db1.internal", 7381)).isFalse();
        assertThat(adv.answersOn(at("10.0.0.5", 7380), "203.0.113.9", 17380))
                .as("a NAT address")
                .isTrue();
        assertThat(adv.answersOn(at("10.0.0.5", 7380), "203.0.113.9", 7380)).isFalse();
        assertThat(adv.answersOn(at("10.0.0.5", 7380), "2001:db8:0:0:0:0:0:9", 7380))
                .isTrue();
        assertThat(adv.answersOn(at("10.0.0.5", 7380), "db2.internal", 7380)).isFalse();
    }
}
