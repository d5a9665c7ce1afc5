package dev.armdb.server;

import static dev.armdb.server.RespContext.is;

import dev.armdb.StoreStats;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]}, as Redis 7 answers it, for a node that runs as a process:
 * a leader first waits up to {@link #REPLICA_WAIT} for its connected followers to acknowledge every write made
 * before the command (Redis's {@code shutdown-timeout}; {@code NOW} skips the wait, and the node stops after it
 * whether or not they did), then the node's stop request runs and the connection closes without a reply.
 *
 * <p>{@code SAVE} and {@code NOSAVE} change nothing: every write is already as durable as the collection's
 * durability promises, and a clean stop always flushes the rest. {@code FORCE} changes nothing either: a clean stop
 * has no snapshot to fail. {@code ABORT} answers that no shutdown is in progress, as Redis does outside a wait. A node
 * embedded in an application without a {@linkplain Node#onShutdownRequest stop request} refuses the command: only
 * the application stops it.
 *
 * <p>Threading: runs off the event loop (it may wait for followers); one connection's thread at a time.
 */
final class ShutdownCommand {
    /** How long a leader waits for its followers to acknowledge the last writes (Redis's default). */
    static final Duration REPLICA_WAIT = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(ShutdownCommand.class);

    private final RespContext ctx;

    ShutdownCommand(RespContext ctx) {
        this.ctx = ctx;
    }

    void register(RespCommands.Binder b) {
        b.on("SHUTDOWN", this::run);
    }

    private void run(List<byte[]> args) {
        boolean now = false;
        boolean save = false;
        boolean noSave = false;
        boolean abort = false;
        for (int i = 1; i < args.size(); i++) {
            byte[] a = args.get(i);
            if (is(a, "NOW")) {
                now = true;
            } else if (is(a, "SAVE")) {
                save = true;
            } else if (is(a, "NOSAVE")) {
                noSave = true;
            } else if (is(a, "ABORT")) {
                abort = true;
            } else if (!is(a, "FORCE")) {
                throw new RespArgsException("ERR syntax error");
            }
        }
        if ((save && noSave) || (abort && args.size() > 2)) {
            throw new RespArgsException("ERR syntax error");
        }
        if (abort) {
            throw new RespArgsException("ERR No shutdown in progress.");
        }
        Runnable stop = ctx.node.shutdownRequest();
        if (stop == null) {
            throw new RespArgsException("ERR SHUTDOWN is off: this node is embedded in an application, which stops it");
        }
        if (!now) {
            awaitFollowers();
        }
        LOG.info("SHUTDOWN asked by client {}: stopping", ctx.client.id());
        ctx.closeAfterReply = true;
        stop.run();
    }

    /** Waits, within {@link #REPLICA_WAIT}, until every connected follower holds every write made so far. */
    private void awaitFollowers() {
        ReplicationServer srv = ctx.node.replicationServer();
        if (srv == null) {
            return;
        }
        Set<String> followers = new HashSet<>();
        for (FollowerStatus s : srv.status()) {
            followers.add(s.followerId());
        }
        if (followers.isEmpty()) {
            return;
        }
        List<StoreStats.ShardStats> shards = ctx.map().stats().shards();
        long[] lsns = new long[shards.size()];
        for (int i = 0; i < lsns.length; i++) {
            lsns[i] = shards.get(i).maxLsn();
        }
        if (!srv.awaitReplicatedAll(lsns, followers.size(), REPLICA_WAIT)) {
            LOG.warn(
                    "SHUTDOWN: {} of {} followers acknowledged every write within {} s; stopping anyway",
                    srv.countAckedAll(lsns),
                    followers.size(),
                    REPLICA_WAIT.toSeconds());
        }
    }
}
