package dev.armdb.cluster;

import dev.armdb.server.WriteGate;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * What a cluster member's RESP front-end asks before and after a write: the leader's self-fencing ({@link
 * LeaderFence}) first, then a planned switchover that stopped writes, then the in-sync replicas ({@link
 * InSyncReplicas}: {@code -NOREPLICAS} below {@code minInsync}); replies to writes wait for the ISR's
 * acknowledgements.
 *
 * <p>Threading: {@link #refuseWrite()}, {@link #admitWrite()} and {@link #leaderElsewhere()} from any thread
 * (volatile reads, a clock read and, for an accepted write, the two bounds of {@link AcceptLog}); {@link
 * #awaitAcknowledged} from any thread, never blocking; {@link #handOver}/{@link #resume}/{@link #namedLeader} from
 * the node's cluster thread.
 */
final class ClusterGate implements WriteGate {
    /** What {@link #leaderElsewhere()} answers while no other leader is known. */
    static final InetSocketAddress NO_LEADER = InetSocketAddress.createUnresolved("", 0);

    private final LeaderFence fence;
    private volatile InSyncReplicas isr;
    private volatile String handingOver;
    private volatile InetSocketAddress namedLeader = NO_LEADER;

    ClusterGate(LeaderFence fence) {
        this.fence = fence;
    }

    /** Sets the ISR, once the node it reads is running; until then every write is refused. */
    void attach(InSyncReplicas replicas) {
        isr = replicas;
    }

    /** Null if a write may be applied now (its accept time is recorded, see {@link AcceptLog}), else the error. */
    @Override
    public String refuseWrite() {
        AcceptLog.Window window = fence.accepts().current();
        long now = fence.now();
        String refused = fence.refuseWrite(now);
        if (refused == null) {
            refused = beyondFence();
        }
        if (refused == null) {
            accepted(window, now);
        }
        return refused;
    }

    /** As {@link #refuseWrite} without counting a write the fence refuses and without recording an accept. */
    @Override
    public boolean mayWrite() {
        return fence.mayWrite() && beyondFence() == null;
    }

    /** As {@link #mayWrite}, recording the accept of the write the caller then applies (the fast path). */
    @Override
    public boolean admitWrite() {
        AcceptLog.Window window = fence.accepts().current();
        long now = fence.now();
        if (!fence.mayWrite(now) || beyondFence() != null) {
            return false;
        }
        accepted(window, now);
        return true;
    }

    /** The refusal of a switchover or of the ISR, null if neither refuses. */
    private String beyondFence() {
        String refused = handingOver;
        if (refused != null) {
            return refused;
        }
        InSyncReplicas r = isr;
        return r == null ? LeaderFence.NOT_LEADER : r.refusal();
    }

    private void accepted(AcceptLog.Window window, long now) {
        // null: the first term's window opened between the read and the check, which saw it leading
        (window != null ? window : fence.accepts().current()).accepted(now);
    }

    @Override
    public String refuseRoleChange() {
        return fence.refuseRoleChange();
    }

    /** Null while this node holds itself the leader; else the RESP address of the leader last read, if known. */
    @Override
    public InetSocketAddress leaderElsewhere() {
        return fence.leads() ? null : namedLeader;
    }

    /** Records the RESP address of the leader the group state names ({@link #NO_LEADER}: none or unknown). */
    void namedLeader(InetSocketAddress respAddress) {
        namedLeader = respAddress;
    }

    @Override
    public boolean holdsReplies() {
        return true;
    }

    @Override
    public void awaitAcknowledged(long[] lsns, Consumer<String> done) {
        InSyncReplicas r = isr;
        if (r == null) {
            done.accept("NOREPLICAS this node is not leading yet: the write's outcome is unknown");
        } else {
            r.await(lsns, done);
        }
    }

    /** Refuses writes while this leader hands over to {@code target}. */
    void handOver(String group, String target) {
        handingOver = "TRYAGAIN group " + group + " is switching over to " + target
                + ": writes resume on the new leader (or here, if the switchover is abandoned)";
    }

    /** Takes writes again (as far as the fence and the ISR allow). */
    void resume() {
        handingOver = null;
    }

    /** True while writes are stopped for a switchover. */
    boolean handingOver() {
        return handingOver != null;
    }
}
