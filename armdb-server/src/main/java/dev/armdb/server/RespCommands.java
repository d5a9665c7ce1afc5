package dev.armdb.server;

import dev.armdb.ArmDbException;
import dev.armdb.ArmDbReadOnlyException;
import dev.armdb.Digest;
import dev.armdb.Durability;
import dev.armdb.FixedMap;
import dev.armdb.FixedStore;
import dev.armdb.StoreStats;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The commands of one RESP client connection: executes parsed requests against the node and writes replies into the
 * connection's {@link RespWriter}. Used by one thread at a time (the connection's event loop, or the virtual thread
 * a blocking command runs on while the connection is paused).
 */
final class RespCommands {
    private static final String READONLY = "READONLY You can't write against a read only replica.";
    /** Most bytes of a request's name and arguments an error echoes back (as Redis). */
    static final int ECHO_LIMIT = 128;

    private final Node node;
    private final RespWriter out;
    private final long[] lastWriteLsn;

    RespCommands(Node node, RespWriter out) {
        this.node = node;
        this.out = out;
        this.lastWriteLsn = new long[node.map().config().shards()];
    }

    /**
     * True if the request may wait (for replicas, a role change, a full scan, or a forced write under SYNC
     * durability) and so must run off the event loop, which serves many connections.
     */
    boolean mayBlock(List<byte[]> args) {
        byte[] c = args.get(0);
        if (is(c, "WAIT") || is(c, "REPLICAOF") || is(c, "SLAVEOF") || is(c, "DEBUG")) {
            return true;
        }
        return map().config().durability() == Durability.SYNC
                && (is(c, "SET") || is(c, "SETNX") || is(c, "DEL") || is(c, "MSET"));
    }

    private static boolean is(byte[] name, String upperCase) {
        if (name.length != upperCase.length()) {
            return false;
        }
        for (int i = 0; i < name.length; i++) {
            int b = name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i];
            if (b != upperCase.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Executes one command; returns false to close the connection. */
    boolean execute(List<byte[]> args) {
        String cmd = new String(args.get(0), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
        try {
            switch (cmd) {
                case "PING" -> {
                    if (args.size() > 1) {
                        out.bulk(args.get(1));
                    } else {
                        out.simple("PONG");
                    }
                }
                case "ECHO" -> out.bulk(arg(args, 1, 2));
                case "GET" -> get(args);
                case "SET" -> set(args);
                case "SETNX" -> setnx(args);
                case "DEL" -> del(args);
                case "EXISTS" -> exists(args);
                case "MGET" -> mget(args);
                case "MSET" -> mset(args);
                case "DBSIZE" -> out.integer(map().size());
                case "INFO" -> out.bulk(info(args.size() > 1 ? str(args.get(1)) : "all"));
                case "DEBUG" -> debug(args);
                case "ROLE" -> role();
                case "REPLICAOF", "SLAVEOF" -> replicaOf(args);
                case "WAIT" -> waitReplicas(args);
                case "QUIT" -> {
                    out.ok();
                    return false;
                }
                case "COMMAND" -> out.arrayHeader(0);
                case "CONFIG" -> config(args);
                case "SELECT" -> {
                    if (args.size() == 2 && str(args.get(1)).equals("0")) {
                        out.ok();
                    } else {
                        out.error("ERR DB index is out of range");
                    }
                }
                case "CLIENT", "HELLO_ACK" -> out.ok();
                default -> out.error(unknown(cmd, args));
            }
        } catch (ArgsException e) {
            out.error(e.getMessage());
        } catch (IllegalArgumentException e) {
            out.error("ERR " + e.getMessage());
        } catch (ArmDbReadOnlyException e) {
            out.error(READONLY);
        } catch (ArmDbException e) {
            out.error("ERR " + e.getMessage());
        }
        return true;
    }

    private FixedMap map() {
        return node.map();
    }

    /**
     * Redis' unknown-command error: the name and the arguments each echoed up to {@value #ECHO_LIMIT} bytes in all, so
     * a huge request never makes a huge reply.
     */
    static String unknown(String cmd, List<byte[]> args) {
        StringBuilder sb = new StringBuilder("ERR unknown command '")
                .append(prefix(cmd.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.ISO_8859_1), ECHO_LIMIT))
                .append("', with args beginning with:");
        int echoed = 0;
        for (int i = 1; i < args.size() && echoed < ECHO_LIMIT; i++) {
            String a = prefix(args.get(i), ECHO_LIMIT - echoed);
            echoed += Math.min(args.get(i).length, ECHO_LIMIT - echoed);
            sb.append(" '").append(a).append("'");
        }
        return sb.toString();
    }

    private static String prefix(byte[] b, int max) {
        return new String(b, 0, Math.min(b.length, max), StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] arg(List<byte[]> args, int i, int expectedSize) {
        if (args.size() != expectedSize) {
            throw new ArgsException(
                    "ERR wrong number of arguments for '" + str(args.get(0)).toLowerCase(Locale.ROOT) + "' command");
        }
        return args.get(i);
    }

    private byte[] key(byte[] k) {
        int size = map().config().keySize();
        if (k.length != size) {
            throw new ArgsException("ERR key must be exactly " + size + " bytes (got " + k.length + ")");
        }
        return k;
    }

    private byte[] value(byte[] v) {
        int size = map().config().valueSize();
        if (v.length != size) {
            throw new ArgsException("ERR value must be exactly " + size + " bytes (got " + v.length + ")");
        }
        return v;
    }

    private void checkWritable() {
        if (map().engine().isReplica()) {
            throw new ArgsException(READONLY);
        }
    }

    private void noteWrite(byte[] key, long lsn) {
        int s = map().engine().shardOf(key, KeyHash.hash(key));
        lastWriteLsn[s] = Math.max(lastWriteLsn[s], lsn);
    }

    private void get(List<byte[]> args) {
        out.bulk(map().get(key(arg(args, 1, 2))));
    }

    private void set(List<byte[]> args) {
        if (args.size() != 3 && !(args.size() == 4 && str(args.get(3)).equalsIgnoreCase("NX"))) {
            throw new ArgsException(
                    args.size() < 3 ? "ERR wrong number of arguments for 'set' command" : "ERR syntax error");
        }
        byte[] k = key(args.get(1));
        byte[] v = value(args.get(2));
        checkWritable();
        if (args.size() == 4) {
            long lsn = map().putIfAbsent(k, v);
            if (lsn != FixedStore.UNCHANGED) {
                noteWrite(k, lsn);
                out.ok();
            } else {
                out.bulk((byte[]) null);
            }
            return;
        }
        noteWrite(k, map().put(k, v));
        out.ok();
    }

    private void setnx(List<byte[]> args) {
        if (args.size() != 3) {
            throw new ArgsException("ERR wrong number of arguments for 'setnx' command");
        }
        byte[] k = key(args.get(1));
        byte[] v = value(args.get(2));
        checkWritable();
        long lsn = map().putIfAbsent(k, v);
        if (lsn != FixedStore.UNCHANGED) {
            noteWrite(k, lsn);
        }
        out.integer(lsn != FixedStore.UNCHANGED ? 1 : 0);
    }

    private void del(List<byte[]> args) {
        if (args.size() < 2) {
            throw new ArgsException("ERR wrong number of arguments for 'del' command");
        }
        for (int i = 1; i < args.size(); i++) {
            key(args.get(i));
        }
        checkWritable();
        long n = 0;
        for (int i = 1; i < args.size(); i++) {
            byte[] k = args.get(i);
            long lsn = map().delete(k);
            if (lsn != FixedStore.UNCHANGED) {
                n++;
                noteWrite(k, lsn);
            }
        }
        out.integer(n);
    }

    private void exists(List<byte[]> args) {
        if (args.size() < 2) {
            throw new ArgsException("ERR wrong number of arguments for 'exists' command");
        }
        long n = 0;
        for (int i = 1; i < args.size(); i++) {
            n += map().containsKey(key(args.get(i))) ? 1 : 0;
        }
        out.integer(n);
    }

    private void mget(List<byte[]> args) {
        if (args.size() < 2) {
            throw new ArgsException("ERR wrong number of arguments for 'mget' command");
        }
        for (int i = 1; i < args.size(); i++) {
            key(args.get(i));
        }
        out.arrayHeader(args.size() - 1);
        for (int i = 1; i < args.size(); i++) {
            out.bulk(map().get(args.get(i)));
        }
    }

    private void mset(List<byte[]> args) {
        if (args.size() < 3 || args.size() % 2 == 0) {
            throw new ArgsException("ERR wrong number of arguments for 'mset' command");
        }
        for (int i = 1; i < args.size(); i += 2) {
            key(args.get(i));
            value(args.get(i + 1));
        }
        checkWritable();
        int pairs = (args.size() - 1) / 2;
        byte[][] keys = new byte[pairs][];
        byte[][] values = new byte[pairs][];
        for (int i = 0; i < pairs; i++) {
            keys[i] = args.get(1 + 2 * i);
            values[i] = args.get(2 + 2 * i);
        }
        // all pairs or none are validated, then written with no other writer interleaved (see docs/operations.md)
        long[] lsns = map().putAllWithoutInterleaving(keys, values);
        for (int i = 0; i < pairs; i++) {
            noteWrite(keys[i], lsns[i]);
        }
        out.ok();
    }

    private void debug(List<byte[]> args) {
        if (args.size() == 2 && str(args.get(1)).equalsIgnoreCase("DIGEST")) {
            out.bulk(Digest.of(map()).hex());
        } else {
            out.error("ERR DEBUG supports only DIGEST");
        }
    }

    private void role() {
        ReplicationClient c = node.replicationClient();
        if (c != null) {
            InetSocketAddress l = ReplicaView.leaderResp(node);
            out.arrayHeader(5);
            out.bulk("slave");
            out.bulk(l.getHostString());
            out.integer(l.getPort());
            out.bulk(ReplicaView.linkState(c.status()));
            out.integer(ReplicaView.appliedOffset(c.status()));
            return;
        }
        ReplicationServer srv = node.replicationServer();
        List<ReplicaView> replicas = ReplicaView.of(srv == null ? List.of() : srv.status());
        out.arrayHeader(3);
        out.bulk("master");
        out.integer(totalLsn());
        out.arrayHeader(replicas.size());
        for (ReplicaView r : replicas) {
            out.arrayHeader(3);
            out.bulk(r.host());
            out.bulk(Integer.toString(r.port()));
            out.bulk(Long.toString(r.offset()));
        }
    }

    private long totalLsn() {
        long n = 0;
        for (int s = 0; s < map().config().shards(); s++) {
            n += map().engine().view(s).lastLsn();
        }
        return n;
    }

    private void replicaOf(List<byte[]> args) {
        if (args.size() != 3) {
            throw new ArgsException("ERR wrong number of arguments for 'replicaof' command");
        }
        String host = str(args.get(1));
        String port = str(args.get(2));
        if (host.equalsIgnoreCase("NO") && port.equalsIgnoreCase("ONE")) {
            node.promote();
            out.ok();
            return;
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new ArgsException("ERR Invalid master port: " + port);
        }
        node.replicaOf(new InetSocketAddress(host, p));
        out.ok();
    }

    private void waitReplicas(List<byte[]> args) {
        if (args.size() != 3) {
            throw new ArgsException("ERR wrong number of arguments for 'wait' command");
        }
        int want;
        long timeoutMs;
        try {
            want = Integer.parseInt(str(args.get(1)));
            timeoutMs = Long.parseLong(str(args.get(2)));
        } catch (NumberFormatException e) {
            throw new ArgsException("ERR value is not an integer or out of range");
        }
        if (timeoutMs < 0) {
            throw new ArgsException("ERR timeout is negative");
        }
        ReplicationServer srv = node.replicationServer();
        if (srv == null) {
            out.integer(0);
            return;
        }
        long deadline = System.nanoTime()
                + Duration.ofMillis(timeoutMs == 0 ? 365L * 24 * 3600 * 1000 : timeoutMs)
                        .toNanos();
        int reached = Integer.MAX_VALUE;
        for (int s = 0; s < lastWriteLsn.length; s++) {
            if (lastWriteLsn[s] == 0) {
                continue;
            }
            long left = Math.max(0, deadline - System.nanoTime());
            srv.awaitReplicated(s, lastWriteLsn[s], want, Duration.ofNanos(left));
            reached = Math.min(reached, srv.countAcked(s, lastWriteLsn[s]));
        }
        if (reached == Integer.MAX_VALUE) {
            reached = (int) srv.status().stream()
                    .map(FollowerStatus::followerId)
                    .distinct()
                    .count();
        }
        out.integer(reached);
    }

    private void config(List<byte[]> args) {
        if (args.size() >= 3 && str(args.get(1)).equalsIgnoreCase("GET")) {
            String param = str(args.get(2)).toLowerCase(Locale.ROOT);
            String value = switch (param) {
                case "save" -> "";
                case "appendonly" -> "no";
                case "databases" -> "1";
                default -> null;
            };
            if (value == null) {
                out.arrayHeader(0);
            } else {
                out.arrayHeader(2);
                out.bulk(param);
                out.bulk(value);
            }
            return;
        }
        out.error("ERR CONFIG supports only GET");
    }

    private String info(String section) {
        String sec = section.toLowerCase(Locale.ROOT);
        boolean all = sec.equals("all") || sec.equals("default") || sec.equals("everything");
        StringBuilder sb = new StringBuilder();
        FixedMap m = map();
        if (all || sec.equals("server")) {
            sb.append("# Server\r\n")
                    .append("armdb_version:0.1.0\r\n")
                    .append("redis_version:7.0.0-armdb\r\n")
                    .append("tcp_port:")
                    .append(node.respAddress().getPort())
                    .append("\r\n")
                    .append("database_id:")
                    .append(m.databaseId())
                    .append("\r\n")
                    .append("key_size:")
                    .append(m.config().keySize())
                    .append("\r\n")
                    .append("value_size:")
                    .append(m.config().valueSize())
                    .append("\r\n")
                    .append("shards:")
                    .append(m.config().shards())
                    .append("\r\n")
                    .append("durability:")
                    .append(m.config().durability().name().toLowerCase(Locale.ROOT))
                    .append("\r\n\r\n");
        }
        if (all || sec.equals("clients")) {
            sb.append("# Clients\r\n")
                    .append("connected_clients:")
                    .append(node.respConnectedClients())
                    .append("\r\nmaxclients:")
                    .append(node.config().maxClients())
                    .append("\r\n\r\n");
        }
        if (all || sec.equals("keyspace")) {
            StoreStats st = m.stats();
            sb.append("# Keyspace\r\n")
                    .append("db0:keys=")
                    .append(st.liveSlots())
                    .append(",expires=0,avg_ttl=0\r\n")
                    .append("file_bytes:")
                    .append(st.fileBytes())
                    .append("\r\n\r\n");
        }
        if (all || sec.equals("replication")) {
            sb.append("# Replication\r\n");
            ReplicationClient c = node.replicationClient();
            if (c != null) {
                ReplicaView.followerInfo(sb, node, c);
            } else {
                ReplicationServer srv = node.replicationServer();
                ReplicaView.leaderInfo(sb, srv, totalLsn());
                for (int s = 0; s < m.config().shards(); s++) {
                    sb.append("shard")
                            .append(s)
                            .append("_lsn:")
                            .append(m.engine().view(s).lastLsn())
                            .append("\r\n");
                }
            }
            sb.append("\r\n");
        }
        return sb.toString();
    }

    /** A reply-level error for bad arguments; the connection stays open. */
    private static final class ArgsException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ArgsException(String message) {
            super(message, null, false, false);
        }
    }
}
