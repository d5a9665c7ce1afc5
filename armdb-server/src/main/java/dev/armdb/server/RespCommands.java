package dev.armdb.server;

import dev.armdb.ArmDbException;
import dev.armdb.ArmDbReadOnlyException;
import dev.armdb.Digest;
import dev.armdb.Durability;
import dev.armdb.FixedMap;
import dev.armdb.StoreStats;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.leader.ReplicationServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The commands of one RESP client connection: looks each request up in {@link RespCommandTable}, checks its arity,
 * authentication and transaction state, and runs its handler, which writes the reply into the connection's {@link
 * RespWriter}. The handlers live in a few classes by family ({@link KeyCommands}, {@link ConnectionCommands}, {@link
 * TransactionCommands}, {@link CommandDocs}); the server and replication commands are here. Used by one thread at a
 * time (the connection's event loop, or the virtual thread a blocking command runs on while the connection is
 * paused).
 */
final class RespCommands {
    private static final String READONLY = RespContext.READONLY;
    /** Most bytes of a request's name and arguments an error echoes back (as Redis). */
    static final int ECHO_LIMIT = 128;
    /** INFO's own sections in order; sections a coordinator adds ({@link Node#addInfoSection}) go before the last. */
    static final List<String> INFO_SECTIONS =
            List.of("server", "clients", "memory", "persistence", "stats", "replication", "keyspace");

    /** Runs one command whose arity the dispatcher checked. */
    @FunctionalInterface
    interface Handler {
        void run(List<byte[]> args);
    }

    /** Binds handlers to the table's commands; each family registers its own. */
    final class Binder {
        void on(String name, Handler h) {
            RespCommandTable.Spec spec = RespCommandTable.find(name);
            if (spec == null || handlers[spec.id()] != null) {
                throw new IllegalStateException((spec == null ? "no table entry for " : "two handlers for ") + name);
            }
            handlers[spec.id()] = h;
        }
    }

    private final Node node;
    private final RespWriter out;
    private final RespContext ctx;
    private final long[] lastWriteLsn;
    private final Handler[] handlers = new Handler[RespCommandTable.size()];
    private final TransactionCommands tx;
    private final InPlaceCommands inPlace;

    /** The commands of connection {@code client}, replying into {@code out}. */
    RespCommands(Node node, RespWriter out, RespClient client) {
        this.node = node;
        this.out = out;
        this.ctx = new RespContext(node, out, client);
        this.lastWriteLsn = ctx.lastWriteLsn;
        this.tx = new TransactionCommands(ctx, this);
        this.inPlace = new InPlaceCommands(ctx);
        Binder b = new Binder();
        new KeyCommands(ctx).register(b);
        new ConnectionCommands(ctx, tx).register(b);
        new CommandDocs(out).register(b);
        tx.register(b);
        new ShutdownCommand(ctx).register(b);
        b.on("INFO", a -> out.verbatim(info(a)));
        b.on("DEBUG", this::debug);
        b.on("ROLE", a -> role());
        b.on("REPLICAOF", this::replicaOf);
        b.on("SLAVEOF", this::replicaOf);
        b.on("WAIT", this::waitReplicas);
        b.on("CONFIG", this::config);
        for (RespCommandTable.Spec s : RespCommandTable.all()) {
            if (handlers[s.id()] == null) {
                throw new IllegalStateException("no handler for " + s.name());
            }
        }
    }

    /** The highest LSN this client wrote in {@code shard} (0: none), which WAIT waits for. */
    long lastWriteLsn(int shard) {
        return lastWriteLsn[shard];
    }

    /** True if this client wrote since {@link #takeUnackedWrites} last ran. */
    boolean unackedWrites() {
        return ctx.unackedWrites;
    }

    /**
     * Moves the highest LSN per shard this client wrote since the last call (0: none there) into {@code into}, and
     * forgets them: those are the writes whose replies now wait (or need not).
     */
    void takeUnackedWrites(long[] into) {
        long[] unacked = ctx.unackedLsn;
        System.arraycopy(unacked, 0, into, 0, unacked.length);
        java.util.Arrays.fill(unacked, 0);
        ctx.unackedWrites = false;
    }

    /** This connection's client record. */
    RespClient client() {
        return ctx.client;
    }

    /**
     * True if the request may wait (for replicas, a role change, a full pass, or a forced write under SYNC
     * durability) and so must run off the event loop, which serves many connections.
     */
    boolean mayBlock(List<byte[]> args) {
        RespCommandTable.Spec spec = RespCommandTable.find(args.get(0));
        if (spec == null || !spec.arityAccepts(args.size()) || !ctx.client.authenticated()) {
            return false;
        }
        boolean exec = spec.name().equals("EXEC");
        if (tx.queuing() && !exec) {
            return false;
        }
        boolean sync = map().config().durability() == Durability.SYNC;
        return spec.has(RespCommandTable.Flag.MAY_WAIT)
                || (sync && spec.has(RespCommandTable.Flag.WRITE))
                || (sync && exec && tx.queuedWrites());
    }

    /**
     * Executes {@code request} straight from its slices, allocating nothing, if it is a well-formed hot key command
     * (see {@link InPlaceCommands}) that the generic path would simply run: the client is authenticated, not queuing
     * a transaction, wants its replies, and the command cannot wait. Returns false, having done nothing, for every
     * other request, which the caller then copies and passes to {@link #execute(List)}. The connection stays open.
     */
    boolean executeInPlace(RespRequest request) {
        RespClient client = ctx.client;
        if (request.argc() == 0
                || !client.authenticated()
                || tx.queuing()
                || client.replyMode() != RespClient.ReplyMode.ON) {
            return false;
        }
        RespCommandTable.Spec spec = RespCommandTable.find(request.buffer(), request.offset(0), request.length(0));
        if (spec == null
                || (spec.has(RespCommandTable.Flag.WRITE) && map().config().durability() == Durability.SYNC)
                || !inPlace.accepts(spec, request)) {
            return false;
        }
        node.respClients().commandProcessed();
        client.commandStarted(spec.name());
        try {
            inPlace.run(spec, request);
        } catch (RuntimeException e) {
            refused(e);
        }
        return true;
    }

    /** Executes one command; returns false to close the connection. */
    boolean execute(List<byte[]> args) {
        RespClient client = ctx.client;
        RespClient.ReplyMode mode = client.replyMode();
        int mark = out.mark();
        node.respClients().commandProcessed();
        RespCommandTable.Spec spec = RespCommandTable.find(args.get(0));
        if (spec == null) {
            tx.queuingFailed();
            out.error(unknown(str(args.get(0)), args));
        } else {
            client.commandStarted(spec.name());
            dispatch(spec, args);
        }
        if (mode == RespClient.ReplyMode.SKIP
                || (mode == RespClient.ReplyMode.OFF && client.replyMode() == RespClient.ReplyMode.OFF)) {
            out.truncate(mark);
            if (mode == RespClient.ReplyMode.SKIP && client.replyMode() == RespClient.ReplyMode.SKIP) {
                client.replyMode(RespClient.ReplyMode.ON);
            }
        }
        return !ctx.closeAfterReply;
    }

    private void dispatch(RespCommandTable.Spec spec, List<byte[]> args) {
        if (!ctx.client.authenticated() && !spec.has(RespCommandTable.Flag.NO_AUTH)) {
            out.error("NOAUTH Authentication required.");
            return;
        }
        if (!spec.arityAccepts(args.size())) {
            tx.queuingFailed();
            out.error("ERR wrong number of arguments for '" + RespContext.lower(args.get(0)) + "' command");
            return;
        }
        if (tx.queuing() && !controlsTransaction(spec)) {
            if (spec.has(RespCommandTable.Flag.NO_MULTI)) {
                tx.queuingFailed();
                out.error("ERR Command not allowed inside a transaction");
            } else if (spec.has(RespCommandTable.Flag.WRITE) && map().engine().isReplica()) {
                tx.queuingFailed();
                out.error(READONLY);
            } else {
                tx.queue(spec, args);
            }
            return;
        }
        run(spec, args);
    }

    private static boolean controlsTransaction(RespCommandTable.Spec spec) {
        return switch (spec.name()) {
            case "EXEC", "DISCARD", "MULTI", "WATCH", "QUIT", "RESET" -> true;
            default -> false;
        };
    }

    /** Runs a checked command, turning a refused one into its error reply. Also runs EXEC's queued commands. */
    void run(RespCommandTable.Spec spec, List<byte[]> args) {
        try {
            handlers[spec.id()].run(args);
        } catch (RuntimeException e) {
            refused(e);
        }
    }

    /** Answers a command the handler or the engine refused with its error; anything else is not a refusal. */
    private void refused(RuntimeException e) {
        switch (e) {
            case RespArgsException a -> out.error(a.getMessage());
            case IllegalArgumentException a -> out.error("ERR " + a.getMessage());
            case ArmDbReadOnlyException a -> out.error(READONLY);
            case ArmDbException a -> out.error("ERR " + a.getMessage());
            default -> throw e;
        }
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
        InetSocketAddress elsewhere = node.gate().leaderElsewhere();
        if (elsewhere != null) {
            // Redis's state of a replica that has yet to connect to its master
            out.arrayHeader(5);
            out.bulk("slave");
            out.bulk(elsewhere.getHostString());
            out.integer(elsewhere.getPort());
            out.bulk("connect");
            out.integer(totalLsn());
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
            throw new RespArgsException("ERR wrong number of arguments for 'replicaof' command");
        }
        String refused = node.gate().refuseRoleChange();
        if (refused != null) {
            throw new RespArgsException(refused);
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
            throw new RespArgsException("ERR Invalid master port: " + port);
        }
        try {
            node.replicaOfChecked(new InetSocketAddress(host, p));
        } catch (IllegalArgumentException e) {
            throw new RespArgsException("ERR " + e.getMessage());
        }
        out.ok();
    }

    private void waitReplicas(List<byte[]> args) {
        if (args.size() != 3) {
            throw new RespArgsException("ERR wrong number of arguments for 'wait' command");
        }
        int want;
        long timeoutMs;
        try {
            want = Integer.parseInt(str(args.get(1)));
            timeoutMs = Long.parseLong(str(args.get(2)));
        } catch (NumberFormatException e) {
            throw new RespArgsException("ERR value is not an integer or out of range");
        }
        if (timeoutMs < 0) {
            throw new RespArgsException("ERR timeout is negative");
        }
        ReplicationServer srv = node.replicationServer();
        if (srv == null) {
            out.integer(0);
            return;
        }
        long deadline = System.nanoTime()
                + Duration.ofMillis(timeoutMs == 0 ? 365L * 24 * 3600 * 1000 : timeoutMs)
                        .toNanos();
        // as Redis: the replicas that hold every write of this client, not per shard counts combined
        long[] lsns = lastWriteLsn.clone();
        srv.awaitReplicatedAll(lsns, want, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        out.integer(srv.countAckedAll(lsns));
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

    private String info(List<byte[]> args) {
        java.util.Set<String> wanted = new java.util.HashSet<>();
        for (int i = 1; i < args.size(); i++) {
            wanted.add(RespContext.lower(args.get(i)));
        }
        StringBuilder sb = new StringBuilder();
        List<String> sections = new java.util.ArrayList<>(INFO_SECTIONS.subList(0, INFO_SECTIONS.size() - 1));
        node.infoSections().forEach(s -> sections.add(s.name()));
        sections.add(INFO_SECTIONS.getLast());
        for (String sec : sections) {
            if (wanted.isEmpty()
                    || wanted.contains(sec)
                    || wanted.contains("all")
                    || wanted.contains("default")
                    || wanted.contains("everything")) {
                sb.append(info(sec));
            }
        }
        return sb.toString();
    }

    private String info(String sec) {
        StringBuilder sb = new StringBuilder();
        FixedMap m = map();
        InfoSections sections = new InfoSections(node);
        switch (sec) {
            case "server" -> sections.server(sb);
            case "clients" -> sections.clients(sb);
            case "memory" -> sections.memory(sb);
            case "persistence" -> sections.persistence(sb);
            case "stats" -> sections.stats(sb);
            default ->
                node.infoSections().stream()
                        .filter(added -> added.name().equals(sec))
                        .forEach(added -> added.writer().accept(sb));
        }
        if (sec.equals("keyspace")) {
            StoreStats st = m.stats();
            sb.append("# Keyspace\r\n")
                    .append("db0:keys=")
                    .append(st.liveSlots())
                    .append(",expires=0,avg_ttl=0\r\n")
                    .append("file_bytes:")
                    .append(st.fileBytes())
                    .append("\r\n\r\n");
        }
        if (sec.equals("replication")) {
            sb.append("# Replication\r\n");
            ReplicationClient c = node.replicationClient();
            InetSocketAddress elsewhere = c == null ? node.gate().leaderElsewhere() : null;
            if (c != null) {
                ReplicaView.followerInfo(sb, node, c);
            } else {
                if (elsewhere != null) {
                    ReplicaView.unlinkedInfo(
                            sb, elsewhere, totalLsn(), m.engine().term());
                } else {
                    ReplicaView.leaderInfo(
                            sb, node.replicationServer(), totalLsn(), m.engine().term());
                }
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
}
