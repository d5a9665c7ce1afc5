package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.MessageType;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/**
 * An ACK is bounded by the highest LSN the session sent, so that a peer cannot satisfy a WAIT for data it never
 * received. The bound starts at the follower's own from-LSN, also when the leader answers FULL (and sends from 0):
 * a peer that announces a huge from-LSN of another database gets FULL, may acknowledge that huge LSN at once, and
 * counts as having replicated every LSN below it, including writes made after it acknowledged. Failed while the bound started at the announced from-LSN.
 */
class AckBoundTest extends ClosingTest {
    @Test
    void aPeerCannotAcknowledgeWhatItWasNeverSentByAnnouncingAHugeFromLsn() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), ReplicationTest.config(32, 1024)));
        for (int i = 0; i < 200; i++) {
            leader.put(ReplicationTest.key(i), ReplicationTest.value(i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        long huge = 1_000_000_000L;
        try (Socket s = ReplicationFaultTest.connect(server.address())) {
            s.setSoTimeout(5_000);
            var out = s.getOutputStream();
            // another database's id (zeros) and a from-LSN above the leader's: the leader answers FULL
            out.write(ReplicationFaultTest.frame(
                    1, ReplicationFaultTest.syncRequest(ReplicationFaultTest.V, 0, new byte[16], huge, 42)));
            // acknowledged before reading a single batch
            out.write(ReplicationFaultTest.frame(MessageType.ACK.code(), ReplicationFaultTest.ack(huge, 0)));
            out.flush();
            long written = leader.engine().view(0).lastLsn();
            long deadline = System.nanoTime() + 3_000_000_000L;
            for (int i = 0; i < 3_000 && System.nanoTime() < deadline; i++) {
                if (server.countAcked(0, written) > 0 || s.isClosed()) {
                    break;
                }
                Thread.sleep(1);
            }
            assertThat(server.countAcked(0, written))
                    .as("a peer that received nothing counts as having replicated LSN %d", written)
                    .isZero();
        }
    }
}
