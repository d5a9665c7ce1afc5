package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HELLO, AUTH, CLIENT, COMMAND, RESET, SELECT and the key-space commands over raw RESP2 and RESP3. */
class RespConnectionCommandsTest {
    private static final String V = "0123456789abcdef";

    @TempDir
    Path tmp;

    private Node node(RespPassword password) {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(3)
                .durability(Durability.NONE)
                .build();
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null)
                .withIoThreads(1)
                .withRequirePass(password));
    }

    @Test
    void helloSwitchesToResp3AndBack() throws IOException {
        try (Node n = node(null);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("GET", "key00001")).isEqualTo("(nil)");
            String hello = c.call("HELLO", "3", "SETNAME", "me");
            assertThat(hello)
                    .startsWith("{server,redis,version,7.2.0,proto,:3,id,:")
                    .endsWith(",mode,standalone,role,master,modules,[]}");
            assertThat(c.call("GET", "key00001")).isEqualTo("(null)");
            assertThat(c.call("CLIENT", "GETNAME")).isEqualTo("me");
            assertThat(c.call("CLIENT", "INFO")).startsWith("=txt:id=").contains(" name=me ", " resp=3 ");
            assertThat(c.call("CONFIG", "GET", "databases")).isEqualTo("[databases,1]");
            assertThat(c.call("COMMAND", "INFO", "get", "nosuch"))
                    .isEqualTo("[[get,:2,~[+readonly,+fast],:1,:1,:1,~[+@string],~[],[],[]],(null)]");
            assertThat(c.call("COMMAND", "DOCS", "get"))
                    .isEqualTo("{get,{summary,Returns the value of a key.,since," + "1.0.0,group,string}}");
            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("WATCH", "key00001")).startsWith("-ERR WATCH inside MULTI");
            assertThat(c.call("DISCARD")).isEqualTo("+OK");
            assertThat(c.call("HELLO", "4")).isEqualTo("-NOPROTO unsupported protocol version");
            assertThat(c.call("HELLO", "x")).startsWith("-ERR Protocol version is not an integer");
            assertThat(c.call("HELLO", "2", "FOO")).isEqualTo("-ERR Syntax error in HELLO option 'FOO'");
            assertThat(c.call("HELLO", "2")).startsWith("[server,redis,");
            assertThat(c.call("GET", "key00001")).isEqualTo("(nil)");
            assertThat(c.call("HELLO", "3")).startsWith("{");
            assertThat(c.call("RESET")).isEqualTo("+RESET");
            assertThat(c.call("GET", "key00001")).as("RESET: back to RESP2").isEqualTo("(nil)");
            assertThat(c.call("CLIENT", "GETNAME")).isEqualTo("(nil)");
        }
    }

    @Test
    void authGatesEveryCommandButAFew() throws IOException {
        try (Node n = node(RespPassword.of("pw-123"));
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("GET", "key00001")).isEqualTo("-NOAUTH Authentication required.");
            assertThat(c.call("PING")).isEqualTo("-NOAUTH Authentication required.");
            assertThat(c.call("MULTI")).isEqualTo("-NOAUTH Authentication required.");
            assertThat(c.call("HELLO", "3")).startsWith("-NOAUTH HELLO must be called");
            assertThat(c.call("AUTH", "nope")).startsWith("-WRONGPASS");
            assertThat(c.call("AUTH", "other", "pw-123")).startsWith("-WRONGPASS");
            assertThat(c.call("HELLO", "3", "AUTH", "default", "nope")).startsWith("-WRONGPASS");
            assertThat(c.call("GET", "key00001")).isEqualTo("-NOAUTH Authentication required.");
            assertThat(c.call("HELLO", "3", "AUTH", "default", "pw-123")).startsWith("{server,redis");
            assertThat(c.call("GET", "key00001")).isEqualTo("(null)");
            assertThat(c.call("RESET")).isEqualTo("+RESET");
            assertThat(c.call("GET", "key00001")).as("RESET deauthenticates").startsWith("-NOAUTH");
            assertThat(c.call("AUTH", "pw-123")).isEqualTo("+OK");
            assertThat(c.call("AUTH", "default", "pw-123")).isEqualTo("+OK");
            assertThat(c.call("GET", "key00001")).isEqualTo("(nil)");
        }
        try (Node n = node(null);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("AUTH", "x")).startsWith("-ERR AUTH <password> called without any password");
        }
    }

    @Test
    void clientCommands() throws IOException {
        try (Node n = node(null);
                RespTestClient c = new RespTestClient(n);
                RespTestClient victim = new RespTestClient(n)) {
            String id = c.call("CLIENT", "ID").substring(1);
            String victimId = victim.call("CLIENT", "ID").substring(1);
            assertThat(Long.parseLong(victimId)).isGreaterThan(Long.parseLong(id));
            assertThat(c.call("CLIENT", "GETNAME")).isEqualTo("(nil)");
            assertThat(c.call("CLIENT", "SETNAME", "bad name")).startsWith("-ERR Client names cannot contain spaces");
            assertThat(c.call("CLIENT", "SETNAME", "good")).isEqualTo("+OK");
            assertThat(c.call("CLIENT", "SETINFO", "LIB-NAME", "mylib")).isEqualTo("+OK");
            assertThat(c.call("CLIENT", "SETINFO", "FOO", "x")).startsWith("-ERR Unrecognized option");
            assertThat(c.call("CLIENT", "NO-EVICT", "on")).isEqualTo("+OK");
            assertThat(c.call("CLIENT", "NO-TOUCH", "off")).isEqualTo("+OK");
            assertThat(c.call("CLIENT", "LIST"))
                    .contains("id=" + id + " ", " name=good ", "lib-name=mylib", "id=" + victimId + " ");
            assertThat(c.call("CLIENT", "TRACKING", "on")).startsWith("-ERR CLIENT TRACKING is not supported");
            c.send("CLIENT", "REPLY", "OFF");
            c.send("SET", "key00001", V);
            c.send("CLIENT", "REPLY", "ON");
            assertThat(c.reply()).as("replies off until ON, which answers").isEqualTo("+OK");
            c.send("CLIENT", "REPLY", "SKIP");
            c.send("GET", "key00001");
            assertThat(c.call("ECHO", "after-skip")).isEqualTo("after-skip");
            assertThat(c.call("CLIENT", "KILL", "ID", victimId)).isEqualTo(":1");
            assertThat(victim.replyOrClosed()).isEqualTo("(closed)");
            assertThat(c.call("CLIENT", "KILL", "ID", victimId)).isEqualTo(":0");
            assertThat(c.call("SELECT", "0")).isEqualTo("+OK");
            assertThat(c.call("SELECT", "1")).isEqualTo("-ERR DB index is out of range");
            assertThat(c.call("TIME")).matches("\\[\\d+,\\d+\\]");
            assertThat(c.call("COMMAND", "COUNT")).isEqualTo(":" + RespCommandTable.size());
            assertThat(c.call("COMMAND", "GETKEYS", "GET", "x")).startsWith("-ERR COMMAND GETKEYS is not supported");
        }
    }

    @Test
    void keySpaceCommands() throws IOException {
        try (Node n = node(null);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("SET", "key00001", V, "XX")).isEqualTo("(nil)");
            assertThat(c.call("EXISTS", "key00001")).isEqualTo(":0");
            assertThat(c.call("SET", "key00001", V, "GET")).isEqualTo("(nil)");
            assertThat(c.call("SET", "key00001", "fedcba9876543210", "XX", "GET"))
                    .isEqualTo(V);
            assertThat(c.call("SET", "key00001", V, "NX", "XX")).isEqualTo("-ERR syntax error");
            assertThat(c.call("SET", "key00001", V, "EX", "10")).contains("keys do not expire", "SET EX");
            assertThat(c.call("EXPIRE", "key00001", "10")).contains("keys do not expire");
            assertThat(c.call("PERSIST", "key00001")).contains("keys do not expire");
            assertThat(c.call("GETSET", "key00001", V)).isEqualTo("fedcba9876543210");
            assertThat(c.call("TTL", "key00001")).isEqualTo(":-1");
            assertThat(c.call("PTTL", "key00002")).isEqualTo(":-2");
            assertThat(c.call("TYPE", "key00001")).isEqualTo("+string");
            assertThat(c.call("TYPE", "key00002")).isEqualTo("+none");
            assertThat(c.call("STRLEN", "key00001")).isEqualTo(":16");
            assertThat(c.call("OBJECT", "ENCODING", "key00001")).isEqualTo("embstr");
            assertThat(c.call("OBJECT", "FREQ", "key00001")).startsWith("-ERR An LFU maxmemory policy");
            assertThat(c.call("MEMORY", "USAGE", "key00001")).matches(":\\d+");
            assertThat(c.call("MEMORY", "USAGE", "key00002")).isEqualTo("(nil)");
            assertThat(c.call("RANDOMKEY")).isEqualTo("key00001");
            assertThat(c.call("GETDEL", "key00001")).isEqualTo(V);
            assertThat(c.call("GETDEL", "key00001")).isEqualTo("(nil)");
            assertThat(c.call("RANDOMKEY")).isEqualTo("(nil)");
            for (int i = 0; i < 30; i++) {
                c.send("SET", String.format("%s%05d", i % 2 == 0 ? "ev:" : "od:", i), V);
            }
            for (int i = 0; i < 30; i++) {
                assertThat(c.reply()).isEqualTo("+OK");
            }
            assertThat(c.call("KEYS", "ev:*").split(",")).hasSize(15);
            assertThat(c.call("KEYS", "od:0000[13]"))
                    .contains("od:00001", "od:00003")
                    .hasSize(19);
            assertThat(c.call("SCAN", "0", "COUNT", "1000", "TYPE", "hash")).isEqualTo("[0,[]]");
            assertThat(c.call("SCAN", "0", "COUNT", "1000", "MATCH", "ev:*").split(","))
                    .hasSize(16);
            assertThat(c.call("SCAN", "x")).isEqualTo("-ERR invalid cursor");
            assertThat(c.call("UNLINK", "ev:00000", "ev:00002", "nokey-00")).isEqualTo(":2");
            assertThat(c.call("FLUSHDB")).isEqualTo("+OK");
            assertThat(c.call("DBSIZE")).isEqualTo(":0");
            assertThat(c.call("INFO", "stats", "memory"))
                    .contains("# Stats", "keyspace_hits:", "# Memory", "used_memory:")
                    .doesNotContain("# Server");
        }
    }

    @Test
    void infoCountsConnectionsCommandsAndRejections() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg =
                FixedConfig.builder().keySize(8).valueSize(16).shards(1).build();
        try (Node n = Node.start(new NodeConfig(tmp.resolve("m"), cfg, any, any, null, null)
                        .withIoThreads(1)
                        .withMaxClients(1));
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("GET", "key00001")).isEqualTo("(nil)");
            try (RespTestClient refused = new RespTestClient(n)) {
                assertThat(refused.reply()).isEqualTo("-ERR max number of clients reached");
            }
            String stats = c.call("INFO", "stats");
            assertThat(stats)
                    .contains("total_connections_received:1\r\n")
                    .contains("total_commands_processed:2\r\n")
                    .contains("rejected_connections:1\r\n")
                    .contains("keyspace_misses:1\r\n")
                    .contains("keyspace_hits:0\r\n");
            assertThat(c.call("INFO")).contains("# Server", "redis_version:7.2.0", "# Keyspace", "# Persistence");
        }
    }
}
