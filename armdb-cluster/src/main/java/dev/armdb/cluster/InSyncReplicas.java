package dev.armdb.cluster;

import dev.armdb.Durability;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's in-sync replicas (ISR) and the acknowledgements they gate. A client's write is acknowledged only once
 * every member of the ISR, and every follower on its way in, acknowledged its LSN; with fewer ISR members than {@code
 * minInsync} writes are refused ({@code -NOREPLICAS}).
 *
 * <p>The leader alone changes the ISR in the group state, with compare-and-set on the state znode's version (the
 * controller only empties it at a failover), so what this object waits for is always a superset of what ZooKeeper
 * names, which is what the controller chooses a successor from:
 *
 * <ul>
 *   <li><b>Shrink.</b> A member that has not acknowledged, on every shard, the leader's LSNs of {@code lag} ago, or
 *       has not been heard from on some shard for {@code lag} (followers answer every heartbeat), is removed in
 *       ZooKeeper first; only once that write succeeded do waiting writes stop waiting for it.
 *   <li><b>Rejoin.</b> An eligible follower (it streams every shard from this leader in its term, with durability
 *       GROUP or SYNC and a clean start) that keeps up, and was heard from on every shard within half the lag bound,
 *       is first waited for, from a moment T on; once it acknowledged
 *       the leader's LSNs of T on every shard it holds every write acknowledged without it, and it is added in
 *       ZooKeeper. One that does not catch up within {@code lag} is dropped and tried again after another {@code lag}.
 * </ul>
 *
 * <p>Threading: {@link #await} from any thread (the RESP event loops), never blocking: it queues the request and an
 * evaluator thread of this object calls back once the acknowledgements arrived (woken by the replication server's ack
 * listener); the ISR decisions ({@link #maintain}, {@link #lead}, {@link #stop}) from the node's cluster thread only,
 * which does the ZooKeeper writes outside of the lock every change of the waited-for set is made under. The
 * refusal on the write path is one volatile read.
 */
final class InSyncReplicas implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InSyncReplicas.class);
    /** How long the evaluator sleeps when nothing wakes it (it also checks the hold bound). */
    private static final long IDLE_PARK_NANOS = 50_000_000L;

    /** What the ISR reads of the leader's replication. Any thread. */
    interface Acks {
        /** The leader's last LSN of shard {@code shard}. */
        long lastLsn(int shard);

        /**
         * The highest LSN follower {@code followerId} (its database id, hex) acknowledged on {@code shard} over its
         * open sessions, -1 if it has none (or this node serves no followers).
         */
        long acked(String followerId, int shard);

        /**
         * How long follower {@code followerId} has been silent on the shard it was last heard on longest ago (it
         * answers every heartbeat), in nanoseconds; Long.MAX_VALUE if it has no open session on some shard.
         */
        long silentNanos(String followerId);
    }

    /** Writes the group state read in this round with compare-and-set. Called on the cluster thread. */
    interface StateWriter {
        /** Writes {@code next}; true if written, false if the state changed since it was read (nothing written). */
        boolean write(GroupState next) throws Exception;
    }

    /** A follower as the ISR tracks it: its node id and the id its replication sessions carry (empty: unknown). */
    record Member(String nodeId, String followerId) {}

    /** A follower on its way in: waited for since {@code sinceNanos}, when the leader was at {@code lsns}. */
    private record Joining(Member member, long sinceNanos, long[] lsns) {}

    /** Replies of one connection waiting for acknowledgements. */
    private record Waiter(long[] lsns, Consumer<String> done, long sinceNanos) {}

    /** A decided answer to one waiter, delivered once the lock is released. */
    private record Answer(Consumer<String> done, String answer) {}

    /** The leader's LSNs at one moment. */
    private record Sample(long nanos, long[] lsns) {}

    private final String group;
    private final int shards;
    private final int minInsync;
    private final long lagNanos;
    private final long maxHoldNanos;
    private final LongSupplier clock;
    private final Acks acks;
    private final BooleanSupplier sessionLost;
    private final Thread evaluator;
    private final ReentrantLock lock = new ReentrantLock();

    // guarded by lock
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final Map<String, Joining> joining = new LinkedHashMap<>();
    private List<Member> isr = List.of();
    private boolean leading;
    private long term = -1;
    private String notLeading = "no group state names this node leader";

    private volatile String refusal = null;
    private volatile int waiting;
    private volatile boolean closed;

    // cluster thread only
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private final Map<String, Long> retryAfter = new HashMap<>();
    private final Map<String, String> followerIds = new HashMap<>();
    private long shrinks;
    private long expansions;

    /**
     * @param group the group's name, for messages
     * @param shards the collection's shard count
     * @param minInsync the in-sync followers writes need
     * @param lagNanos how long a member may go without acknowledging what the leader had written before it is removed
     * @param maxHoldNanos the longest a reply waits; past it the write is answered with an error (a bound for when
     *     neither acknowledgements nor ZooKeeper answer)
     * @param clock monotonic nanoseconds
     * @param acks the leader's replication
     * @param sessionLost true once this node's ZooKeeper session is lost (it can no longer change the ISR)
     */
    InSyncReplicas(
            String group,
            int shards,
            int minInsync,
            long lagNanos,
            long maxHoldNanos,
            LongSupplier clock,
            Acks acks,
            BooleanSupplier sessionLost) {
        this.group = group;
        this.shards = shards;
        this.minInsync = minInsync;
        this.lagNanos = lagNanos;
        this.maxHoldNanos = maxHoldNanos;
        this.clock = clock;
        this.acks = acks;
        this.sessionLost = sessionLost;
        this.evaluator = Thread.ofPlatform().daemon().name("armdb-isr-" + group).unstarted(this::runEvaluator);
        updateRefusal();
    }

    /** Starts the thread that answers waiting replies. */
    void start() {
        evaluator.start();
    }

    /** Wakes the evaluator if replies wait: the replication server's ack listener. Any thread, never blocks. */
    void wake() {
        if (waiting > 0) {
            LockSupport.unpark(evaluator);
        }
    }

    /** Null if writes may be taken, else the {@code NOREPLICAS} line: fewer ISR members than {@code minInsync}. */
    String refusal() {
        return refusal;
    }

    /**
     * Calls {@code done} with null once every member waited for acknowledged {@code lsns[s]} on every shard, or with
     * an error line if that will not happen. Never blocks; {@code done} runs on the evaluator thread or, when there
     * is nothing to wait for, on the caller's.
     */
    void await(long[] lsns, Consumer<String> done) {
        boolean nothingToWaitFor;
        lock.lock();
        try {
            nothingToWaitFor = leading && isr.size() >= minInsync && isr.isEmpty() && joining.isEmpty();
            if (!nothingToWaitFor) {
                waiters.add(new Waiter(lsns, done, clock.getAsLong()));
                waiting = waiters.size();
            }
        } finally {
            lock.unlock();
        }
        if (nothingToWaitFor) {
            done.accept(null);
        } else {
            LockSupport.unpark(evaluator);
        }
    }

    private void runEvaluator() {
        while (!closed) {
            LockSupport.parkNanos(this, IDLE_PARK_NANOS);
            try {
                evaluate(clock.getAsLong());
            } catch (RuntimeException e) {
                LOG.warn("group {}: answering held replies failed: {}", group, e.toString());
            }
        }
    }

    /** Answers every waiting reply that can be answered now. Any thread (the evaluator, tests). */
    void evaluate(long now) {
        List<Answer> answers = new ArrayList<>();
        lock.lock();
        try {
            if (waiters.isEmpty()) {
                return;
            }
            if (!leading || sessionLost.getAsBoolean()) {
                failAll(
                        "NOREPLICAS the write was applied on this node, but it stopped leading (" + notLeadingReason()
                                + ") before its in-sync replicas acknowledged it: its outcome is unknown",
                        answers);
                return;
            }
            long[] committed = committed();
            boolean belowMin = isr.size() < minInsync;
            Iterator<Waiter> it = waiters.iterator();
            while (it.hasNext()) {
                Waiter w = it.next();
                String answer;
                if (belowMin) {
                    answer = "NOREPLICAS the write was applied on the leader, but its in-sync replicas dropped to "
                            + ids(isr) + ", fewer than min-insync " + minInsync
                            + ", before they all acknowledged it: its outcome is unknown";
                } else if (covered(w.lsns(), committed)) {
                    answer = null;
                } else if (now - w.sinceNanos() > maxHoldNanos) {
                    answer = "NOREPLICAS the write was applied on the leader, but its in-sync replicas "
                            + ids(waitedFor()) + " did not acknowledge it within " + maxHoldNanos / 1_000_000
                            + " ms and could not be removed from the ISR: its outcome is unknown";
                } else {
                    continue;
                }
                it.remove();
                answers.add(new Answer(w.done(), answer));
            }
            waiting = waiters.size();
        } finally {
            lock.unlock();
            deliver(answers);
        }
    }

    private String notLeadingReason() {
        return sessionLost.getAsBoolean() ? "its ZooKeeper session was lost" : notLeading;
    }

    /** Answers every waiting reply with {@code answer} (delivered by the caller, outside the lock). */
    private void failAll(String answer, List<Answer> into) {
        for (Waiter w : waiters) {
            into.add(new Answer(w.done(), answer));
        }
        waiters.clear();
        waiting = 0;
    }

    /** Calls back, outside the lock: a callback may run the connection on, which may wait again. */
    private static void deliver(List<Answer> answers) {
        for (Answer a : answers) {
            a.done().accept(a.answer());
        }
    }

    /** Per shard, the LSN every member waited for acknowledged (Long.MAX_VALUE with none). Caller holds the lock. */
    private long[] committed() {
        long[] c = new long[shards];
        Arrays.fill(c, Long.MAX_VALUE);
        for (Member m : waitedFor()) {
            for (int s = 0; s < shards; s++) {
                c[s] = Math.min(c[s], m.followerId().isEmpty() ? -1 : acks.acked(m.followerId(), s));
            }
        }
        return c;
    }

    private static boolean covered(long[] lsns, long[] committed) {
        for (int s = 0; s < lsns.length; s++) {
            if (lsns[s] > committed[s]) {
                return false;
            }
        }
        return true;
    }

    /** The ISR and the followers on their way in. Caller holds the lock. */
    private List<Member> waitedFor() {
        if (joining.isEmpty()) {
            return isr;
        }
        List<Member> all = new ArrayList<>(isr);
        for (Joining j : joining.values()) {
            all.add(j.member());
        }
        return all;
    }

    /**
     * This node leads in {@code state}'s term. In a term it did not lead before it waits for exactly the ISR the state
     * names; within the term it adds the members the state names to those it waits for, but drops one only through
     * its own successful write ({@link #maintain}): a read (from a ZooKeeper server that lags, in a new session) may
     * be older than that write, and must never make it wait for fewer than ZooKeeper names. Cluster thread.
     */
    void lead(GroupState state) {
        lock.lock();
        try {
            List<String> ids = new ArrayList<>(state.isr());
            if (!leading || term != state.term()) {
                joining.clear();
                samples.clear();
                retryAfter.clear();
                LOG.info("group {}: leading in term {} with ISR {}", group, state.term(), state.isr());
            } else {
                for (Member m : isr) {
                    if (!ids.contains(m.nodeId())) {
                        ids.add(m.nodeId());
                    }
                }
            }
            leading = true;
            term = state.term();
            isr = members(ids);
            updateRefusal();
        } finally {
            lock.unlock();
        }
    }

    /** This node does not lead (any more): waiting replies get an error, nothing is waited for. Cluster thread. */
    void stop(String reason) {
        List<Answer> answers = new ArrayList<>();
        lock.lock();
        try {
            if (leading) {
                LOG.info("group {}: no longer leading ({}); {} held replies refused", group, reason, waiters.size());
            }
            leading = false;
            notLeading = reason;
            isr = List.of();
            joining.clear();
            samples.clear();
            updateRefusal();
            failAll(
                    "NOREPLICAS the write was applied on this node, but it stopped leading (" + reason
                            + ") before its in-sync replicas acknowledged it: its outcome is unknown",
                    answers);
        } finally {
            lock.unlock();
            deliver(answers);
        }
    }

    private void updateRefusal() {
        List<Member> now = isr;
        refusal = leading && now.size() < minInsync
                ? "NOREPLICAS Not enough good replicas to write: group " + group + " has " + now.size()
                        + " in-sync follower(s) " + ids(now) + ", min-insync is " + minInsync
                : null;
    }

    private List<Member> members(List<String> ids) {
        List<Member> out = new ArrayList<>(ids.size());
        for (String id : ids) {
            out.add(new Member(id, followerIds.getOrDefault(id, "")));
        }
        return List.copyOf(out);
    }

    private static List<String> ids(List<Member> members) {
        return members.stream().map(Member::nodeId).toList();
    }

    /**
     * One round of ISR upkeep on the leader, with the group state and members read in this round: removes lagging
     * members (writing ZooKeeper first), admits followers that caught up, and records this leader's {@code
     * minInsync}. At most one state write per round. Cluster thread; {@link #lead} ran for this state.
     *
     * @return the state written, or null if none was
     */
    GroupState maintain(GroupState state, List<MemberInfo> members, StateWriter writer) throws Exception {
        long now = clock.getAsLong();
        for (MemberInfo m : members) {
            followerIds.put(m.nodeId(), HexFormat.of().formatHex(m.databaseId()));
        }
        lead(state);
        Sample current = sample(now);
        Sample old = sampleOlderThan(now - lagNanos);
        Sample previous = previousSample();
        Map<String, MemberInfo> byId = new HashMap<>();
        for (MemberInfo m : members) {
            byId.put(m.nodeId(), m);
        }
        List<String> remove = new ArrayList<>();
        List<String> why = new ArrayList<>();
        for (Member m : isrSnapshot()) {
            MemberInfo info = byId.get(m.nodeId());
            if (info != null && (info.durability() == Durability.NONE || info.uncleanStart())) {
                remove.add(m.nodeId());
                why.add(m.nodeId() + (info.uncleanStart() ? " started after an unclean stop" : " has durability NONE"));
            } else if (lagging(m, old)) {
                remove.add(m.nodeId());
                why.add(m.nodeId() + " did not acknowledge within " + lagNanos / 1_000_000 + " ms");
            }
        }
        dropLaggingJoiners(now, old);
        if (!remove.isEmpty()) {
            List<String> next = new ArrayList<>(state.isr());
            next.removeAll(remove);
            return write(state, next, "ISR " + state.isr() + " -> " + next + ": " + String.join("; ", why), writer);
        }
        List<String> caughtUp = caughtUpJoiners(byId, state);
        if (!caughtUp.isEmpty()) {
            List<String> next = new ArrayList<>(state.isr());
            next.addAll(caughtUp);
            return write(
                    state,
                    next,
                    "ISR " + state.isr() + " -> " + next + ": " + caughtUp + " caught up on every shard",
                    writer);
        }
        admitJoiners(members, state, previous == null ? current : previous, now);
        if (state.minInsync() != minInsync) {
            return write(state, state.isr(), "leader " + state.leader() + " asks for min-insync " + minInsync, writer);
        }
        return null;
    }

    private List<Member> isrSnapshot() {
        lock.lock();
        try {
            return isr;
        } finally {
            lock.unlock();
        }
    }

    /** Writes the ISR {@code next} with compare-and-set; on success waits for exactly it (and the joiners left). */
    private GroupState write(GroupState state, List<String> next, String reason, StateWriter writer) throws Exception {
        GroupState written = new GroupState(
                state.term(),
                state.leader(),
                next,
                minInsync,
                state.lastFailoverMillis(),
                reason,
                state.lastFailoverReason());
        if (!writer.write(written)) {
            return null;
        }
        // only now, with ZooKeeper naming the new ISR, may replies stop waiting for a removed member
        lock.lock();
        try {
            for (String id : next) {
                joining.remove(id);
            }
            if (next.size() < state.isr().size()) {
                shrinks++;
            } else if (next.size() > state.isr().size()) {
                expansions++;
            }
            isr = members(next);
            updateRefusal();
        } finally {
            lock.unlock();
        }
        LOG.info("group {}: {}", group, reason);
        evaluate(clock.getAsLong());
        return written;
    }

    /** Drops joiners that lag or did not catch up within the lag bound; they may try again after another one. */
    private void dropLaggingJoiners(long now, Sample old) {
        lock.lock();
        try {
            Iterator<Joining> it = joining.values().iterator();
            while (it.hasNext()) {
                Joining j = it.next();
                if (lagging(j.member(), old) || (now - j.sinceNanos() > lagNanos && !ackedAll(j.member(), j.lsns()))) {
                    it.remove();
                    retryAfter.put(j.member().nodeId(), now + lagNanos);
                    LOG.info(
                            "group {}: {} did not catch up within {} ms; it may try again later",
                            group,
                            j.member().nodeId(),
                            lagNanos / 1_000_000);
                }
            }
        } finally {
            lock.unlock();
        }
        evaluate(now);
    }

    /** Joiners that acknowledged the leader's LSNs of when they were first waited for, and are still eligible. */
    private List<String> caughtUpJoiners(Map<String, MemberInfo> byId, GroupState state) {
        List<String> out = new ArrayList<>();
        lock.lock();
        try {
            for (Joining j : joining.values()) {
                MemberInfo info = byId.get(j.member().nodeId());
                if (info != null && eligible(info, state) && ackedAll(j.member(), j.lsns())) {
                    out.add(j.member().nodeId());
                }
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    /**
     * Starts waiting for eligible followers outside the ISR that kept up with the leader's LSNs of one round ago: from
     * now on every reply waits for them too, and the leader's LSNs read right after (under the lock the waited-for set
     * changes under) are what they must reach to join.
     */
    private void admitJoiners(List<MemberInfo> members, GroupState state, Sample keptUpWith, long now) {
        for (MemberInfo m : members) {
            if (!eligible(m, state) || state.isr().contains(m.nodeId())) {
                continue;
            }
            Long retry = retryAfter.get(m.nodeId());
            if (retry != null && now - retry < 0) {
                continue;
            }
            Member member = new Member(m.nodeId(), HexFormat.of().formatHex(m.databaseId()));
            if (!ackedAll(member, keptUpWith.lsns()) || acks.silentNanos(member.followerId()) > lagNanos / 2) {
                continue;
            }
            lock.lock();
            try {
                if (!joining.containsKey(m.nodeId())) {
                    joining.put(m.nodeId(), new Joining(member, now, lastLsns()));
                    LOG.info("group {}: {} keeps up; waiting for it from now on before it joins the ISR", group, m);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * True if {@code m} may be in the ISR of {@code state}'s leader: a follower streaming every shard from it in its
     * term, durability GROUP or SYNC, clean start.
     */
    static boolean eligible(MemberInfo m, GroupState state) {
        return FailoverDecision.inSync(m, state);
    }

    /**
     * True if {@code m} has not acknowledged the leader's LSNs of one lag bound ago ({@code old}, null before there
     * is one), or has been silent on some shard for longer than the bound.
     */
    private boolean lagging(Member m, Sample old) {
        if (m.followerId().isEmpty()) {
            return old != null;
        }
        return (old != null && !ackedAll(m, old.lsns())) || acks.silentNanos(m.followerId()) > lagNanos;
    }

    private boolean ackedAll(Member m, long[] lsns) {
        if (m.followerId().isEmpty()) {
            return false;
        }
        for (int s = 0; s < shards; s++) {
            if (acks.acked(m.followerId(), s) < lsns[s]) {
                return false;
            }
        }
        return true;
    }

    private long[] lastLsns() {
        long[] l = new long[shards];
        for (int s = 0; s < shards; s++) {
            l[s] = acks.lastLsn(s);
        }
        return l;
    }

    /** Records the leader's LSNs now; keeps the samples a lag check may need. */
    private Sample sample(long now) {
        Sample s = new Sample(now, lastLsns());
        samples.addLast(s);
        // keep one sample at least lag old (the one lag checks use); older ones are never needed again
        while (samples.size() > 2) {
            Iterator<Sample> it = samples.iterator();
            it.next();
            if (now - it.next().nanos() >= lagNanos) {
                samples.removeFirst();
            } else {
                break;
            }
        }
        return s;
    }

    /** The newest sample taken at or before {@code nanos}, or null. */
    private Sample sampleOlderThan(long nanos) {
        Sample found = null;
        for (Sample s : samples) {
            if (s.nanos() - nanos <= 0) {
                found = s;
            }
        }
        return found;
    }

    /** The sample before the newest one, or null. */
    private Sample previousSample() {
        if (samples.size() < 2) {
            return null;
        }
        Iterator<Sample> it = samples.descendingIterator();
        it.next();
        return it.next();
    }

    /** The ISR this node waits for, as node ids (empty when not leading). */
    List<String> isr() {
        lock.lock();
        try {
            return ids(isr);
        } finally {
            lock.unlock();
        }
    }

    /** Followers waited for on their way into the ISR. */
    List<String> joining() {
        lock.lock();
        try {
            return List.copyOf(joining.keySet());
        } finally {
            lock.unlock();
        }
    }

    /** Replies waiting now. */
    int waiting() {
        return waiting;
    }

    /** ISR removals this node wrote. Cluster thread. */
    long shrinks() {
        return shrinks;
    }

    /** ISR additions this node wrote. Cluster thread. */
    long expansions() {
        return expansions;
    }

    /** Stops the evaluator; waiting replies get an error. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(evaluator);
        stop("closing");
        try {
            evaluator.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
