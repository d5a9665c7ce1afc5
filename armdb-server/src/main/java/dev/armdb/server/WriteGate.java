package dev.armdb.server;

/**
 * What a coordinator that runs a node (automatic failover) says about writes and manual role changes: a leader
 * accepts writes only while the coordinator confirms it may ({@link #refuseWrite()}), and {@code REPLICAOF} is refused
 * while the coordinator decides roles ({@link #refuseRoleChange()}). A node without a coordinator uses {@link #OPEN}.
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

    /** Null if {@code REPLICAOF} may change this node's role, else the RESP error line to answer. */
    String refuseRoleChange();
}
