package dev.armdb.cli;

import dev.armdb.cluster.ClusterStatus;
import dev.armdb.cluster.ClusterStatusReader;
import dev.armdb.cluster.GroupState;
import dev.armdb.cluster.MemberInfo;
import dev.armdb.cluster.StandaloneZooKeeper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The cluster demo ({@code bin/armdb cluster-demo}): a ZooKeeper server in this process and three {@code serve
 * --cluster} nodes as child processes, all on loopback and in one temporary directory; a client writing batches
 * acknowledged by {@code WAIT}; a SIGKILL of the leader while it writes; the failover as the cluster's znodes show it;
 * writes on the new leader; and every acknowledged key read back from the new leader. Every wait is bounded by one
 * overall time limit; the child processes and the directory are removed on every exit (and on Ctrl-C).
 *
 * <p>Threading: {@link #run()} on one thread; a writer thread of its own ({@link DemoWriter}).
 */
final class ClusterDemo {
    static final String GROUP = "demo";
    static final List<String> NODE_IDS = List.of("n1", "n2", "n3");
    static final String RESULT_OK = "no acknowledged write lost";

    private static final long POLL_MILLIS = 250;
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final PrintStream out;
    private final long writesBeforeKill;
    private final long writesAfter;
    private final boolean keep;
    private final long startNanos = System.nanoTime();
    private final long deadlineNanos;
    private final List<DemoNode> nodes = new ArrayList<>();
    private final AtomicBoolean cleanedUp = new AtomicBoolean();
    private final DemoWriter writer = new DemoWriter();
    private Path root;
    private StandaloneZooKeeper zk;
    private ClusterStatusReader status;

    /** A failed step: the message says which and what was seen. */
    static final class DemoFailure extends RuntimeException {
        DemoFailure(String message) {
            super(message);
        }
    }

    ClusterDemo(PrintStream out, long writesBeforeKill, long writesAfter, Duration timeLimit, boolean keep) {
        this.out = out;
        this.writesBeforeKill = writesBeforeKill;
        this.writesAfter = writesAfter;
        this.keep = keep;
        this.deadlineNanos = startNanos + timeLimit.toNanos();
    }

    /** Runs the demo; returns the exit status: 0 if every acknowledged write was read back, 1 otherwise. */
    int run() throws Exception {
        ClusterStatusCommand.quietZooKeeperLogs();
        root = Files.createTempDirectory("armdb-cluster-demo-");
        Thread hook = Thread.ofPlatform().unstarted(this::cleanUp);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return demo();
        } catch (IOException | RuntimeException e) {
            out.println("FAILED: " + (e instanceof DemoFailure ? e.getMessage() : e.toString()));
            for (DemoNode n : nodes) {
                out.printf("--- last lines of %s's log ---%n%s%n", n.id(), n.logTail(15));
            }
            return 1;
        } finally {
            cleanUp();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook runs (and finds everything cleaned up)
            }
        }
    }

    private int demo() throws Exception {
        zk = StandaloneZooKeeper.start(root.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        String cluster = zk.connectString() + "/armdb-demo";
        out.printf("armdb cluster-demo: ZooKeeper on %s, three nodes in %s%n", zk.connectString(), root);
        for (String id : NODE_IDS) {
            DemoNode n = DemoNode.start(id, root.resolve(id), cluster, GROUP);
            nodes.add(n);
            out.printf(
                    "  started %s: bin/armdb serve --cluster %s --group %s --node-id %s (pid %d)%n",
                    id, cluster, GROUP, id, n.pid());
        }
        status = ClusterStatusReader.open(cluster, Duration.ofSeconds(10));
        ClusterStatus.Group formed = awaitGroup();
        String oldLeader = formed.state().leader();

        writer.target(new DemoWriter.Target(oldLeader, resp(formed, oldLeader), NODE_IDS.size() - 1));
        writer.start();
        awaitAcked(writesBeforeKill, "load on " + oldLeader + " (each batch: 50 SETs, then WAIT 2)");

        DemoNode victim = node(oldLeader);
        long acksAtKill = writer.ackedCount();
        long killNanos = System.nanoTime();
        victim.kill();
        out.printf(
                "SIGKILL leader %s (pid %d) while writing; %,d writes acknowledged so far%n",
                oldLeader, victim.pid(), acksAtKill);
        String newLeader = awaitFailover(formed.state(), killNanos);
        long failoverNanos = System.nanoTime() - killNanos;

        awaitAcked(writer.ackedCount() + writesAfter, "load on " + newLeader + " (WAIT 1: one follower left)");
        writer.close();
        ClusterStatus.Group after = group(status.read());
        out.printf(
                "reading every acknowledged write back from the new leader %s (%s)...%n",
                newLeader, after.state() == null ? "?" : "term " + after.state().term());
        DemoWriter.Check check = DemoWriter.check(resp(after, newLeader), writer.acknowledged());
        out.printf(
                Locale.ROOT,
                "failover: the new leader acknowledged writes %.1f s after the SIGKILL; demo took %.1f s%n",
                failoverNanos / 1e9,
                (System.nanoTime() - startNanos) / 1e9);
        if (check.lost() == 0 && check.checked() > 0) {
            out.printf("%s (%,d checked)%n", RESULT_OK, check.checked());
            return 0;
        }
        out.printf("LOST %,d of %,d acknowledged writes, e.g. %s%n", check.lost(), check.checked(), check.examples());
        return 1;
    }

    /** Waits for a leader that writes and an ISR holding both other nodes; prints what changes meanwhile. */
    private ClusterStatus.Group awaitGroup() throws InterruptedException {
        String last = "";
        while (true) {
            checkTime("the group to form (a leader and two in-sync followers)");
            checkAlive();
            ClusterStatus.Group g = group(status.read());
            GroupState s = g.state();
            String now;
            if (s == null && g.members().isEmpty()) {
                now = "waiting for the nodes to register in ZooKeeper";
            } else if (s == null) {
                now = "members "
                        + g.members().stream().map(ClusterStatus.Member::nodeId).toList()
                        + " registered; waiting for the controller to name a leader";
            } else {
                now = "leader " + s.leader() + " in term " + s.term() + ", ISR " + s.isr();
                ClusterStatus.Member l = member(g, s.leader());
                boolean writable = l != null && l.info() != null && !l.info().replica();
                if (writable && s.isr().size() == NODE_IDS.size() - 1) {
                    progress(now + ": the followers stream every shard from it");
                    return g;
                }
            }
            if (!now.equals(last)) {
                progress(now);
                last = now;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Waits until {@code target} writes are acknowledged in all, printing the count every second. */
    private void awaitAcked(long target, String what) throws InterruptedException {
        long lastPrint = System.nanoTime();
        long lastCount = writer.ackedCount();
        progress(what + "...");
        while (writer.ackedCount() < target) {
            checkTime(what + " to reach " + target + " acknowledged writes (last error: " + writer.lastError() + ")");
            if (System.nanoTime() - lastPrint >= PROGRESS_NANOS) {
                lastPrint = System.nanoTime();
                long count = writer.ackedCount();
                progress(String.format("  %,d writes acknowledged", count)
                        + (count == lastCount ? "; last refusal: " + writer.lastError() : ""));
                lastCount = count;
            }
            Thread.sleep(20);
        }
        progress(String.format("  %,d writes acknowledged", writer.ackedCount()));
    }

    /**
     * Follows the failover from the group's znodes until the successor acknowledges writes; returns its id. Prints
     * each step (the old leader's member gone, the successor named, its first acknowledged batch) and, while nothing
     * changes, what it is waiting for.
     */
    private String awaitFailover(GroupState before, long killNanos) throws InterruptedException {
        String old = before.leader();
        boolean oldGone = false;
        String successor = null;
        long lastPrint = System.nanoTime();
        while (true) {
            checkTime("the failover (" + (successor == null ? "no successor named" : successor + " named") + ")");
            ClusterStatus st = status.read();
            ClusterStatus.Group g = group(st);
            GroupState s = g.state();
            String line = null;
            ClusterStatus.Member m = member(g, old);
            if (!oldGone && (m == null || m.info() == null)) {
                oldGone = true;
                line = old + "'s member znode is gone (its ZooKeeper session expired); the controller ("
                        + st.controller() + ") fails over after its grace period";
            }
            if (successor == null
                    && s != null
                    && !s.leader().equals(old)
                    && !s.leader().isEmpty()) {
                ClusterStatus.Member next = member(g, s.leader());
                if (next != null && next.info() != null) {
                    successor = s.leader();
                    line = "controller " + st.controller() + " named " + successor + " leader in term " + s.term()
                            + " (" + s.lastFailoverReason() + ")";
                    writer.target(new DemoWriter.Target(successor, resp(g, successor), aliveNodes() - 1));
                }
            }
            if (successor != null && writer.lastAckedOn().equals(successor)) {
                line = successor + " acknowledges writes (it first waited out " + old + "'s lease)";
            }
            long now = System.nanoTime();
            if (line == null && now - lastPrint >= PROGRESS_NANOS) {
                line = "waiting: "
                        + (successor == null
                                ? "leader " + old + " in term " + (s == null ? "?" : s.term())
                                        + (oldGone ? ", its member gone" : ", its session not yet expired")
                                : successor + " named, not yet acknowledging writes")
                        + "; writes: " + writer.lastError();
            }
            if (line != null) {
                lastPrint = now;
                out.printf(Locale.ROOT, "  +%5.1f s  %s%n", (now - killNanos) / 1e9, line);
            }
            if (successor != null && writer.lastAckedOn().equals(successor)) {
                return successor;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    private ClusterStatus.Group group(ClusterStatus st) {
        return st.groups().stream()
                .filter(g -> g.name().equals(GROUP))
                .findFirst()
                .orElse(ClusterStatus.Group.of(GROUP, null, List.of()));
    }

    private static ClusterStatus.Member member(ClusterStatus.Group g, String id) {
        return g.members().stream()
                .filter(m -> m.nodeId().equals(id))
                .findFirst()
                .orElse(null);
    }

    private static InetSocketAddress resp(ClusterStatus.Group g, String id) {
        ClusterStatus.Member m = member(g, id);
        if (m == null || m.info() == null) {
            throw new DemoFailure("node " + id + " has no member znode: its RESP address is unknown");
        }
        MemberInfo i = m.info();
        int colon = i.respAddress().lastIndexOf(':');
        return new InetSocketAddress(
                i.respAddress().substring(0, colon),
                Integer.parseInt(i.respAddress().substring(colon + 1)));
    }

    private DemoNode node(String id) {
        return nodes.stream()
                .filter(n -> n.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new DemoFailure("the group names " + id + ", which this demo did not start"));
    }

    private int aliveNodes() {
        return (int) nodes.stream().filter(DemoNode::isAlive).count();
    }

    private void checkAlive() {
        for (DemoNode n : nodes) {
            if (!n.isAlive()) {
                throw new DemoFailure("node " + n.id() + " exited early");
            }
        }
    }

    private void checkTime(String what) {
        if (System.nanoTime() - deadlineNanos > 0) {
            throw new DemoFailure(String.format(
                    Locale.ROOT,
                    "time limit of %.0f s reached waiting for %s",
                    (deadlineNanos - startNanos) / 1e9,
                    what));
        }
    }

    private void progress(String line) {
        out.printf(Locale.ROOT, "[%5.1f s] %s%n", (System.nanoTime() - startNanos) / 1e9, line);
    }

    /** Stops the writer, the reader, every child process and ZooKeeper, and removes the directory. Runs once. */
    private void cleanUp() {
        if (!cleanedUp.compareAndSet(false, true)) {
            return;
        }
        try {
            writer.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (status != null) {
            status.close();
        }
        for (DemoNode n : nodes) {
            try {
                n.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (zk != null) {
            zk.close();
        }
        if (root != null) {
            if (keep) {
                out.println("kept " + root + " (node logs in */node.log)");
            } else {
                deleteTree(root);
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("armdb cluster-demo: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
