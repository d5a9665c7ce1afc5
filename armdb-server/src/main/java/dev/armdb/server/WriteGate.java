package dev.armdb.server;

import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * What a coordinator that runs a node (automatic failover) says about writes and manual role changes: a leader
 * accepts writes only while the coordinator confirms it may ({@link #refuseWrite()}), its replies to writes wait for
 * the replicas the coordinator names ({@link #holdsReplies()}, {@link #awaitAcknowledged}), and {@code REPLICAOF} is
 * refused while the coordinator decides roles ({@link #refuseRoleChange()}). A node without a coordinator uses {@link
 * #OPEN}.
 *
 * <p>Threading: called by any RESP event loop at any time; implementations must be thread-safe and must not block
 * ({@link #refuseWrite()} runs on the write path: a few volatile reads and a clock read at most).
 */
public interface WriteGate {
    /** The gate of a node without a coordinator: everything allowed. */
    WriteGate OPEN = new WriteGate() {
        @Override
        public String refuseWrite() {
            return null;
        }

        @Override
        public String refuseRoleChange() {
            return null;
        }
    };

    /**
     * Null if a write may be applied now, else the RESP error line to answer (e.g. {@code TRYAGAIN ...}). Called once
     * per write answered: a coordinator may count the refusals.
     */
    String refuseWrite();

    /**
     * True if {@link #refuseWrite()} would answer null now; for callers that only look (a fast path choosing whether to
     * take a request, a status), so that a coordinator counting refusals does not count these.
     */
    default boolean mayWrite() {
        return refuseWrite() == null;
    }

    /**
     * As {@link #mayWrite()}, for a caller that applies the write at once when this answers true (the fast path of the
     * hot commands): a coordinator may record the write as accepted. False: nothing is recorded or counted; the
     * caller answers through {@link #refuseWrite()}. The default only looks.
     */
    default boolean admitWrite() {
        return mayWrite();
    }

    /** Null if {@code REPLICAOF} may change this node's role, else the RESP error line to answer. */
    String refuseRoleChange();

    /**
     * True if a reply to a write must wait until {@link #awaitAcknowledged} says the write may be acknowledged; the
     * connection then holds that reply, and every later one, without blocking its event loop. False (the default):
     * replies go out as soon as the write is applied.
     */
    default boolean holdsReplies() {
        return false;
    }

    /**
     * Calls {@code done} exactly once, on any thread and possibly before returning, when the writes up to {@code
     * lsns[s]} on every shard {@code s} (0: none there) may be acknowledged to the client ({@code null}), or with the
     * RESP error line to answer instead when they will not be (the writes were applied here but their fate is
     * unknown). Must not block; {@code done} must not block either. The caller does not touch {@code lsns} until
     * {@code done} runs. The default acknowledges at once.
     */
    default void awaitAcknowledged(long[] lsns, Consumer<String> done) {
        done.accept(null);
    }

    /**
     * Null if this node, while it follows no leader, may call itself a leader ({@code master}) in {@code ROLE}, {@code
     * INFO replication} and {@code HELLO}; else the RESP address of the leader the coordinator names instead (an
     * unresolved address with an empty host and port 0 if it names none this node knows of), and the node calls itself
     * a replica of that address with its link down. A client that looks for the leader by role then skips a node that
     * would refuse its writes, as a writable-looking node that answers {@code -READONLY} would trap it. The default:
     * null (a node without a coordinator leads whenever it follows no one).
     */
    default InetSocketAddress leaderElsewhere() {
        return null;
    }
}
