package dev.armdb.cluster;

import dev.armdb.server.WriteGate;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's self-fencing: writes are accepted only while this node is the group's named leader, its ZooKeeper
 * session is connected, and a lease taken at the start of its last confirmed ZooKeeper round trip has not run out.
 * The lease is shorter than the session timeout, so a leader cut off from ZooKeeper stops writing before its session
 * can expire on the server, and therefore before the controller can name a successor. Also refuses {@code REPLICAOF}:
 * the controller decides roles.
 *
 * <p>Threading: {@link #refuseWrite()} from any thread (two volatile reads and a clock read); state changes from the
 * node's cluster thread and Curator's connection-state thread, serialised by this object's lock.
 */
final class LeaderFence implements WriteGate {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderFence.class);

    static final String NOT_LEADER = "READONLY You can't write against a read only replica.";
    static final String SUSPENDED = "TRYAGAIN this leader's ZooKeeper connection is suspended; writes resume when it"
            + " reconnects or move to the next leader";
    static final String TAKING_OVER =
            "TRYAGAIN this node was just named leader and waits out its predecessor's lease;" + " retry";
    static final String LEASE_EXPIRED =
            "TRYAGAIN this leader's lease ran out (no ZooKeeper round trip confirmed it);" + " retry";

    /** Where the fence stands. */
    enum State {
        /** Not the named leader (or not yet confirmed as one): writes refused as on a replica. */
        NOT_LEADER,
        /** The named leader: writes accepted while the lease lasts. */
        LEADING,
        /** The named leader with its ZooKeeper connection suspended: writes answered TRYAGAIN. */
        SUSPENDED,
        /** The session was lost: writes refused until the group state names this node again. */
        LOST
    }

    private final long leaseNanos;
    private final LongSupplier nanoClock;
    private final String group;
    private final ClusterMetrics metrics;
    private final AcceptLog accepts = new AcceptLog();
    private volatile State state = State.NOT_LEADER;
    private volatile long leaseDeadline;
    private volatile long writableFrom;
    private long ledTerm = -1;
    /** Confirmed as leader since the last step-down (a reconnection that awaits confirmation keeps it). */
    private boolean led;
    /** How many times this node stopped leading (see {@link #stepDowns()}). */
    private volatile long stepDowns;

    LeaderFence(long leaseNanos, LongSupplier nanoClock, String group) {
        this(leaseNanos, nanoClock, group, new ClusterMetrics());
    }

    /** A fence that counts the writes it refuses in {@code metrics}. */
    LeaderFence(long leaseNanos, LongSupplier nanoClock, String group, ClusterMetrics metrics) {
        this.leaseNanos = leaseNanos;
        this.nanoClock = nanoClock;
        this.group = group;
        this.metrics = metrics;
    }

    /** Null if a write may be applied now, else the error to answer; counts a refusal while leading or lost. */
    @Override
    public String refuseWrite() {
        return refuseWrite(nanoClock.getAsLong());
    }

    /** As {@link #refuseWrite()} for a write checked at {@code nowNanos} (this fence's clock, {@link #now()}). */
    String refuseWrite(long nowNanos) {
        State s = state;
        String refusal = refusal(s, nowNanos);
        if (refusal != null && s != State.NOT_LEADER) {
            metrics.fencedWrites.increment();
        }
        return refusal;
    }

    /** Answers as {@link #refuseWrite()} without counting: nothing is refused to a client on this call. */
    @Override
    public boolean mayWrite() {
        return mayWrite(nanoClock.getAsLong());
    }

    /** As {@link #mayWrite()} for a write checked at {@code nowNanos}. */
    boolean mayWrite(long nowNanos) {
        return refusal(state, nowNanos) == null;
    }

    /** This fence's clock now: the time a write's check uses, and the one {@link AcceptLog} records. */
    long now() {
        return nanoClock.getAsLong();
    }

    /**
     * The accept times of the terms this node led. A caller that records a write reads {@link AcceptLog#current()}
     * before it checks the write: {@link #confirmLeader} opens a new term's window after it set that term's takeover
     * wait, so a check that saw the new window also sees the wait (volatile order).
     */
    AcceptLog accepts() {
        return accepts;
    }

    private String refusal(State s, long now) {
        return switch (s) {
            // the deadlines are read after the state: confirmLeader writes them before it (volatile order)
            case LEADING -> leadingRefusal(now);
            case SUSPENDED -> SUSPENDED;
            case NOT_LEADER, LOST -> NOT_LEADER;
        };
    }

    private String leadingRefusal(long now) {
        if (now - leaseDeadline >= 0) {
            return LEASE_EXPIRED;
        }
        return now - writableFrom < 0 ? TAKING_OVER : null;
    }

    @Override
    public String refuseRoleChange() {
        return "ERR REPLICAOF is not allowed in cluster mode: the controller of group " + group
                + " decides who leads (see the group state in ZooKeeper)";
    }

    /** Writes refused while this node was the leader (suspended, lease run out, lost). */
    long fencedWrites() {
        return metrics.fencedWrites.sum();
    }

    /** The term this node last led in, -1 if none. */
    synchronized long ledTerm() {
        return ledTerm;
    }

    /** The current state. */
    State state() {
        return state;
    }

    /**
     * True while this node holds itself the named leader: {@link State#LEADING} (writes may still wait out a lease)
     * or {@link State#SUSPENDED} (its session may yet survive). Any thread.
     */
    boolean leads() {
        State s = state;
        return s == State.LEADING || s == State.SUSPENDED;
    }

    /**
     * How many times this node stopped leading: a confirmed leader that was then told another node (or none) leads,
     * or lost its session. A suspension and a reconnection of the same session are not a step-down; nor is closing.
     * Any thread.
     */
    long stepDowns() {
        return stepDowns;
    }

    /**
     * Confirms leadership in {@code term} after a ZooKeeper round trip that began at {@code roundTripStartNanos} and
     * read a group state naming this node: the lease runs from that start. Ignored while suspended (the connection
     * listener lifts that).
     *
     * <p>The first confirmation in a term this node has not led before also makes it wait one lease from now before
     * its first write: any earlier leader confirmed its own lease with reads of the previous state, all made before
     * the controller wrote this one, so by then every such lease has run out, whatever happened to that leader's
     * session (expired and renewed, or still being expired by the server).
     */
    synchronized void confirmLeader(long roundTripStartNanos, long term) {
        confirmLeader(roundTripStartNanos, term, false);
    }

    /**
     * As {@link #confirmLeader(long, long)}; with {@code handedOver}, the first confirmation in a new term does not
     * wait out a predecessor's lease: the predecessor stopped taking writes before the term was written and never
     * resumes under it (a planned switchover, docs/cluster.md).
     */
    synchronized void confirmLeader(long roundTripStartNanos, long term, boolean handedOver) {
        if (state == State.SUSPENDED) {
            return;
        }
        if (term != ledTerm) {
            ledTerm = term;
            writableFrom = nanoClock.getAsLong() + (handedOver ? 0 : leaseNanos);
            // after the wait: see accepts()
            accepts.open(term);
        }
        long deadline = roundTripStartNanos + leaseNanos;
        if (state != State.LEADING || deadline - leaseDeadline > 0) {
            leaseDeadline = deadline;
        }
        led = true;
        state(State.LEADING, "the group state names this node");
    }

    /** Stops writes: the group state names another node, or none; a step-down if this node was leading. */
    synchronized void notLeader(String reason) {
        stepDown();
        state(State.NOT_LEADER, reason);
    }

    /** Stops writes because the node closes: not a step-down (nothing is left to tell). */
    synchronized void closing() {
        led = false;
        state(State.NOT_LEADER, "closing");
    }

    /** The ZooKeeper connection is suspended: writes get TRYAGAIN until it reconnects or is lost. */
    synchronized void suspended() {
        if (state == State.LEADING) {
            state(State.SUSPENDED, "ZooKeeper connection suspended");
        }
    }

    /** The connection is back with the same session: leadership is confirmed again by the next round trip. */
    synchronized void reconnected() {
        if (state == State.SUSPENDED) {
            // the lease is not renewed here: the next round trip that reads the group state does that
            state(State.NOT_LEADER, "reconnected; waiting for the group state to confirm leadership");
        }
    }

    /** The session is lost: whatever it held (leadership, member znode) is gone. */
    synchronized void lost() {
        stepDown();
        state(State.LOST, "ZooKeeper session lost");
    }

    private void stepDown() {
        if (led) {
            led = false;
            // only this object's lock writes it
            stepDowns = stepDowns + 1;
        }
    }

    private void state(State next, String reason) {
        if (state != next) {
            LOG.info("group {}: fence {} -> {} ({})", group, state, next, reason);
            state = next;
        }
    }
}
