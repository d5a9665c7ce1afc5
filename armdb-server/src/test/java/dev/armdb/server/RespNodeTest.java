package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes in-process on 127.0.0.1, driven over RESP by a small raw client (pipelining included). */
class RespNodeTest {
    private static final String V = "0123456789abcdef";

    @TempDir
    Path tmp;

    private static FixedConfig cfg() {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(3)
                .durability(Durability.NONE)
                .build();
    }

    private Node node(String name, InetSocketAddress follow) {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return Node.start(new NodeConfig(tmp.resolve(name), cfg(), any, any, follow, null));
    }

    @Test
    void commandsPipeliningAndErrors() throws Exception {
        try (Node n = node("a", null);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("PING")).isEqualTo("+PONG");
            assertThat(c.call("ECHO", "hi")).isEqualTo("hi");
            assertThat(c.call("SET", "key00001", V)).isEqualTo("+OK");
            assertThat(c.call("SET", "key00001", V, "NX")).isEqualTo("(nil)");
            assertThat(c.call("SETNX", "key00002", V)).isEqualTo(":1");
            assertThat(c.call("SETNX", "key00002", V)).isEqualTo(":0");
            assertThat(c.call("MSET", "key00003", V, "key00004", V)).isEqualTo("+OK");
            assertThat(c.call("MGET", "key00001", "key00009")).isEqualTo("[" + V + ",(nil)]");
            assertThat(c.call("EXISTS", "key00001", "key00002", "key00009")).isEqualTo(":2");
            assertThat(c.call("DEL", "key00004", "key00009")).isEqualTo(":1");
            assertThat(c.call("DBSIZE")).isEqualTo(":3");
            assertThat(c.call("GET", "k")).isEqualTo("-ERR key must be exactly 8 bytes (got 1)");
            assertThat(c.call("SET", "key00005", "v")).isEqualTo("-ERR value must be exactly 16 bytes (got 1)");
            assertThat(c.call("NOSUCH", "x")).startsWith("-ERR unknown command 'nosuch'");
            assertThat(c.call("CONFIG", "GET", "save")).isEqualTo("[save,]");
            assertThat(c.call("INFO", "keyspace")).contains("db0:keys=3");
            for (int i = 0; i < 500; i++) {
                c.send("SET", String.format("p%07d", i), V);
            }
            for (int i = 0; i < 500; i++) {
                assertThat(c.reply()).isEqualTo("+OK");
            }
            assertThat(c.call("DBSIZE")).isEqualTo(":503");
            assertThat(c.call("QUIT")).isEqualTo("+OK");
        }
    }

    /**
     * SHUTDOWN: refused by a node whose application set no stop request (it goes on serving); with one, the request
     * runs and the connection closes without a reply, as Redis does; NOW skips the wait for followers (none here).
     */
    @Test
    void shutdownRunsTheStopRequestOnlyWhereOneIsSet() throws Exception {
        try (Node n = node("a", null);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("SHUTDOWN")).startsWith("-ERR SHUTDOWN is off");
            assertThat(c.call("SHUTDOWN", "NOW", "FORCE", "NOSAVE")).startsWith("-ERR SHUTDOWN is off");
            assertThat(c.call("SHUTDOWN", "ABORT")).isEqualTo("-ERR No shutdown in progress.");
            assertThat(c.call("SHUTDOWN", "NOW", "ABORT")).isEqualTo("-ERR syntax error");
            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("SHUTDOWN")).startsWith("-ERR");
            assertThat(c.call("DISCARD")).isEqualTo("+OK");
            assertThat(c.call("PING")).isEqualTo("+PONG");

            java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
            n.onShutdownRequest(stopped::countDown);
            c.send("SHUTDOWN", "SAVE");
            assertThat(c.replyOrClosed()).isEqualTo("(closed)");
            assertThat(stopped.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void replicaOfAtRunTimeThenWaitThenPromote() throws Exception {
        try (Node leader = node("leader", null);
                Node other = node("other", null);
                RespTestClient lc = new RespTestClient(leader);
                RespTestClient oc = new RespTestClient(other)) {
            for (int i = 0; i < 200; i++) {
                assertThat(lc.call("SET", String.format("k%07d", i), V)).isEqualTo("+OK");
            }
            int replPort = leader.replicationServer().address().getPort();
            assertThat(oc.call("REPLICAOF", "127.0.0.1", Integer.toString(replPort)))
                    .isEqualTo("+OK");
            assertThat(oc.call("SET", "k0000001", V)).startsWith("-READONLY");
            assertThat(lc.call("SET", "k0000999", V)).isEqualTo("+OK");
            assertThat(lc.call("WAIT", "1", "10000")).isEqualTo(":1");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!oc.call("DEBUG", "DIGEST").equals(lc.call("DEBUG", "DIGEST")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(oc.call("DEBUG", "DIGEST")).isEqualTo(lc.call("DEBUG", "DIGEST"));
            // Redis's shape: the follower names the leader's RESP address, the leader one entry per follower node
            int leaderResp = leader.respAddress().getPort();
            int otherResp = other.respAddress().getPort();
            assertThat(oc.call("ROLE")).startsWith("[slave,127.0.0.1,:" + leaderResp + ",connected,:");
            assertThat(lc.call("ROLE")).startsWith("[master,:").endsWith(",[[127.0.0.1," + otherResp + ",201]]]");
            assertThat(oc.call("INFO", "replication"))
                    .contains("role:slave")
                    .contains("master_host:127.0.0.1\r\nmaster_port:" + leaderResp + "\r\n")
                    .contains("master_link_status:up")
                    .contains("\r\nterm:0\r\n");
            assertThat(lc.call("INFO", "replication"))
                    .contains("connected_slaves:1\r\n")
                    .contains("slave0:ip=127.0.0.1,port=" + otherResp + ",state=online,offset=201,lag=")
                    .contains("master_repl_offset:201\r\n")
                    .contains("\r\nterm:0\r\n");

            assertThat(oc.call("REPLICAOF", "NO", "ONE")).isEqualTo("+OK");
            assertThat(oc.call("SET", "k0000001", "fedcba9876543210")).isEqualTo("+OK");
            assertThat(oc.call("GET", "k0000001")).isEqualTo("fedcba9876543210");
            assertThat(oc.call("DBSIZE")).isEqualTo(":201");
            assertThat(oc.call("ROLE")).startsWith("[master,");
            assertThat(oc.call("INFO", "replication"))
                    .as("a promotion moves the term above every term seen")
                    .contains("\r\nterm:1\r\n");
        }
    }

    /**
     * REPLICAOF of a leader whose collection has another shape could never replicate anything, yet it used to answer
     * OK and leave the node read-only with its shards FAILED. The node must refuse it, naming both values, and keep
     * serving writes as the leader it was; a leader of its own shape is still followed.
     */
    @Test
    void replicaOfALeaderOfAnotherShapeIsRefusedAndTheNodeKeepsItsRole() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig fourShards = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(Durability.NONE)
                .build();
        FixedConfig widerValues = FixedConfig.builder()
                .keySize(8)
                .valueSize(24)
                .shards(3)
                .durability(Durability.NONE)
                .build();
        try (Node other = node("other", null);
                Node sameShape = node("same", null);
                RespTestClient oc = new RespTestClient(other)) {
            for (FixedConfig theirs : new FixedConfig[] {fourShards, widerValues}) {
                String name = "leader" + theirs.shards() + "x" + theirs.valueSize();
                try (Node leader = Node.start(new NodeConfig(tmp.resolve(name), theirs, any, any, null, null))) {
                    int replPort = leader.replicationServer().address().getPort();
                    String expected = theirs.shards() != 3 ? "its shards: 4, this node's 3" : "its value size: 24";
                    assertThat(oc.call("REPLICAOF", "127.0.0.1", Integer.toString(replPort)))
                            .startsWith("-ERR leader 127.0.0.1:" + replPort + " has another shape")
                            .contains(expected);
                    assertThat(oc.call("SET", "k0000001", V)).isEqualTo("+OK");
                    assertThat(oc.call("ROLE")).startsWith("[master,");
                }
            }
            int replPort = sameShape.replicationServer().address().getPort();
            assertThat(oc.call("REPLICAOF", "127.0.0.1", Integer.toString(replPort)))
                    .isEqualTo("+OK");
            assertThat(oc.call("SET", "k0000001", V)).startsWith("-READONLY");
        }
    }

    @Test
    void beforeItsFirstHandshakeAFollowerReportsTheConfiguredLeaderWithTheLinkDown() throws Exception {
        int nowhere = closedLoopbackPort();
        try (Node atStart = node("f1", new InetSocketAddress("127.0.0.1", nowhere));
                Node atRunTime = node("f2", null);
                RespTestClient c1 = new RespTestClient(atStart);
                RespTestClient c2 = new RespTestClient(atRunTime)) {
            assertThat(c2.call("REPLICAOF", "localhost", Integer.toString(nowhere)))
                    .isEqualTo("+OK");
            // several looks while the followers retry, each dial refused: never a port 0, never a link up
            for (int look = 0; look < 5; look++) {
                assertThat(c1.call("ROLE")).startsWith("[slave,127.0.0.1,:" + nowhere + ",connect");
                assertThat(c1.call("INFO", "replication"))
                        .contains("role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:" + nowhere + "\r\n")
                        .contains("master_link_status:down\r\nmaster_sync_in_progress:0\r\n");
                // the host as it was given, as Redis shows it
                assertThat(c2.call("ROLE")).startsWith("[slave,localhost,:" + nowhere + ",connect");
                assertThat(c2.call("INFO", "replication"))
                        .contains("role:slave\r\nmaster_host:localhost\r\nmaster_port:" + nowhere + "\r\n")
                        .contains("master_link_status:down\r\n");
                Thread.sleep(50);
            }
        }
    }

    /** A gate whose coordinator names another leader while {@link #elsewhere} is set; writes refused meanwhile. */
    private static final class MovableGate implements WriteGate {
        volatile InetSocketAddress elsewhere;

        @Override
        public String refuseWrite() {
            return elsewhere == null ? null : "READONLY You can't write against a read only replica.";
        }

        @Override
        public String refuseRoleChange() {
            return null;
        }

        @Override
        public InetSocketAddress leaderElsewhere() {
            return elsewhere;
        }
    }

    /**
     * A node that follows no one but whose coordinator names another leader is a replica of that leader in ROLE, INFO
     * replication and HELLO (a client looking for the leader by role must not pick a node that answers READONLY), and
     * a master again once the coordinator names it; disconnecting the clients closes every RESP connection.
     */
    @Test
    void aNodeWhoseCoordinatorNamesAnotherLeaderShowsAsItsReplica() throws Exception {
        MovableGate gate = new MovableGate();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (Node n = Node.start(new NodeConfig(tmp.resolve("g"), cfg(), any, any, null, null), gate);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("SET", "k0000001", V)).isEqualTo("+OK");
            assertThat(c.call("ROLE")).startsWith("[master,:1,");
            gate.elsewhere = InetSocketAddress.createUnresolved("127.0.0.1", 7001);
            assertThat(c.call("SET", "k0000002", V)).startsWith("-READONLY");
            assertThat(c.call("ROLE")).isEqualTo("[slave,127.0.0.1,:7001,connect,:1]");
            assertThat(c.call("INFO", "replication"))
                    .contains("role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\n")
                    .contains("master_link_status:down\r\n")
                    .contains("slave_repl_offset:1\r\n")
                    .doesNotContain("role:master");
            assertThat(c.call("HELLO", "3")).contains("role,replica");
            gate.elsewhere = InetSocketAddress.createUnresolved("", 0);
            assertThat(c.call("ROLE")).as("no leader known").isEqualTo("[slave,,:0,connect,:1]");
            gate.elsewhere = null;
            assertThat(c.call("HELLO", "2")).contains("role,master");
            assertThat(c.call("ROLE")).startsWith("[master,:1,");
            assertThat(c.call("INFO", "replication")).contains("role:master\r\n");

            try (RespTestClient other = new RespTestClient(n)) {
                assertThat(other.call("PING")).isEqualTo("+PONG");
                assertThat(n.disconnectClients()).isEqualTo(2);
                other.readTimeout(10_000);
                c.readTimeout(10_000);
                assertThat(other.endedByServer()).isTrue();
                assertThat(c.endedByServer()).isTrue();
            }
            try (RespTestClient again = new RespTestClient(n)) {
                assertThat(again.call("GET", "k0000001"))
                        .as("new connections are served")
                        .isEqualTo(V);
            }
        }
    }

    /** A loopback port nothing listens on (it was bound an instant ago, then closed). */
    private static int closedLoopbackPort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void malformedRequestClosesOnlyThatConnection() throws Exception {
        try (Node n = node("m", null);
                RespTestClient good = new RespTestClient(n);
                Socket bad = new Socket(
                        InetAddress.getLoopbackAddress(), n.respAddress().getPort())) {
            bad.setSoTimeout(10_000);
            bad.getOutputStream().write("*2\r\n$3\r\nGET\r\n$-7\r\n".getBytes(StandardCharsets.US_ASCII));
            String reply = new String(bad.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(reply).startsWith("-ERR Protocol error");
            assertThat(good.call("PING")).isEqualTo("+PONG");
        }
    }
}
