package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import dev.armdb.Digest;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three embedded members ({@link ClusterMember} around a collection of their own, no RESP server) around one ZooKeeper
 * server on loopback, each reaching ZooKeeper and leaders' replication ports through proxies of its own: they elect a
 * leader, an application thread writes through whichever member leads (retrying a write until it is acknowledged),
 * the leader is cut off from ZooKeeper and from its followers at once (it stays up: a zombie that could go on taking
 * writes within its lease), a successor takes over, and every acknowledged write is on it; role listeners saw the
 * changes; after the partition heals the old leader follows and all three converge. Every wait is bounded.
 */
class EmbeddedClusterTest {
    @TempDir
    Path tmp;

    private StandaloneZooKeeper zk;
    private final List<ClusterMember> members = new ArrayList<>();
    private final Map<ClusterMember, List<MemberRole>> roles = new ConcurrentHashMap<>();
    /** Per member, the proxy it reaches ZooKeeper through. */
    private final Map<ClusterMember, LoopbackProxy> zooKeeperLinks = new ConcurrentHashMap<>();
    /** Per member id, its proxies to leaders' replication ports, by the address they forward to. */
    private final Map<String, Map<InetSocketAddress, LoopbackProxy>> replicationLinks = new ConcurrentHashMap<>();

    @BeforeEach
    void startZooKeeper() {
        zk = StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stopAll() throws IOException {
        for (ClusterMember m : members) {
            m.close();
        }
        List<LoopbackProxy> proxies = new ArrayList<>(zooKeeperLinks.values());
        replicationLinks.values().forEach(m -> proxies.addAll(m.values()));
        for (LoopbackProxy p : proxies) {
            p.close();
        }
        zk.close();
    }

    private static LoopbackProxy proxy(InetSocketAddress target) {
        try {
            return new LoopbackProxy(target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ClusterMember start(String id) throws IOException {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.GROUP)
                .build();
        LoopbackProxy zkLink = new LoopbackProxy(zk.address());
        ClusterConfig cc = ClusterConfig.of(zkLink.connectString() + "/armdb-embedded", "e1", id)
                .withMinInsync(1)
                .withTimings(
                        TestGroup.SESSION,
                        TestGroup.LEASE,
                        Duration.ofMillis(100),
                        Duration.ofMillis(500),
                        Duration.ofSeconds(60));
        ClusterMember m = ClusterMember.start(
                tmp.resolve(id),
                cfg,
                ReplicationServerConfig.defaults().withBind(new InetSocketAddress("127.0.0.1", 0)),
                ReplicationClientConfig.defaults(),
                cc,
                target -> replicationLinks
                        .computeIfAbsent(id, k -> new ConcurrentHashMap<>())
                        .computeIfAbsent(target, EmbeddedClusterTest::proxy)
                        .address());
        zooKeeperLinks.put(m, zkLink);
        List<MemberRole> seen = new CopyOnWriteArrayList<>();
        roles.put(m, seen);
        m.addRoleListener(seen::add);
        members.add(m);
        return m;
    }

    private ClusterMember leader() {
        return members.stream()
                .filter(m -> m.role().kind() == MemberRole.Kind.LEADER && m.acceptsWrites())
                .findFirst()
                .orElse(null);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The application: writes keys in order as {@link AckedWrites} says through the member whose role is leader and
     * that accepts writes, retrying a write (same key, same value) until it is acknowledged.
     */
    private final class Writer implements Runnable {
        final AckedWrites log = new AckedWrites('k');
        final Map<ClusterMember, AtomicInteger> ackedBy = new ConcurrentHashMap<>();
        final Map<ClusterWriteException.Reason, AtomicInteger> refused =
                new EnumMap<>(ClusterWriteException.Reason.class);
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> failed = new AtomicReference<>();

        Writer() {
            for (ClusterWriteException.Reason r : ClusterWriteException.Reason.values()) {
                refused.put(r, new AtomicInteger());
            }
        }

        @Override
        public void run() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            try {
                while (!stop.get() && System.nanoTime() - deadline < 0) {
                    ClusterMember m = leader();
                    if (m == null) {
                        Thread.sleep(10);
                        continue;
                    }
                    long seq = log.next();
                    log.trying();
                    try {
                        m.put(bytes(log.key(seq)), bytes(log.value(seq)));
                        log.acknowledged();
                        ackedBy.computeIfAbsent(m, x -> new AtomicInteger()).incrementAndGet();
                    } catch (ClusterWriteException e) {
                        refused.get(e.reason()).incrementAndGet();
                        Thread.sleep(10);
                    } catch (ArmDbException e) {
                        // the member closed under the write: its outcome is unknown, try again elsewhere
                        Thread.sleep(10);
                    }
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        }

        int ackedBy(ClusterMember m) {
            AtomicInteger n = ackedBy.get(m);
            return n == null ? 0 : n.get();
        }
    }

    /** Cuts {@code m} off from ZooKeeper and the others' replication links to it, or heals both. */
    private void partition(ClusterMember m, boolean cut) throws IOException {
        List<LoopbackProxy> links = new ArrayList<>();
        links.add(zooKeeperLinks.get(m));
        for (ClusterMember other : members) {
            if (other != m) {
                links.addAll(replicationLinks
                        .getOrDefault(other.member().nodeId(), Map.of())
                        .values());
            }
        }
        for (LoopbackProxy p : links) {
            if (cut) {
                p.blackhole();
            } else {
                p.heal();
            }
        }
    }

    @Test
    void threeEmbeddedMembersFailOverWithNoAcknowledgedWriteLost() throws Exception {
        start("n1");
        start("n2");
        start("n3");
        TestGroup.await("one leader with both followers in sync", 60, () -> {
            ClusterMember l = leader();
            return l != null && l.inSyncReplicas().size() == 2;
        });
        ClusterMember old = leader();
        String oldId = old.member().nodeId();
        for (ClusterMember m : members) {
            assertThat(m.member().respAddress()).as("no RESP server").isEmpty();
            if (m != old) {
                assertThat(m.role().kind()).isEqualTo(MemberRole.Kind.FOLLOWER);
                assertThat(m.role().leader()).isEqualTo(oldId);
                assertThatThrownBy(() -> m.put(bytes("k0000000"), bytes("v0000000")))
                        .isInstanceOfSatisfying(ClusterWriteException.class, e -> {
                            assertThat(e.reason()).isEqualTo(ClusterWriteException.Reason.NOT_LEADER);
                            assertThat(e.mayHaveApplied()).isFalse();
                        });
            }
        }

        Writer w = new Writer();
        Thread t = Thread.ofPlatform().name("embedded-writer").start(w);
        TestGroup.await("writes through the first leader", 60, () -> w.log.count() >= 300 || w.failed.get() != null);
        long oldTerm = old.role().term();
        long cut = System.nanoTime();
        partition(old, true);
        TestGroup.await("a new leader", 60, () -> {
            ClusterMember l = leader();
            return l != null && l != old;
        });
        ClusterMember fresh = leader();
        System.out.printf(
                "EmbeddedClusterTest: new leader %s writable %d ms after the leader was cut off%n",
                fresh.member().nodeId(), (System.nanoTime() - cut) / 1_000_000);
        assertThat(old.acceptsWrites()).as("the old leader fenced itself").isFalse();
        TestGroup.await("writes through the new leader", 60, () -> w.ackedBy(fresh) >= 300 || w.failed.get() != null);
        w.stop.set(true);
        t.join(60_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(w.failed.get()).isNull();
        System.out.printf("EmbeddedClusterTest: %d acknowledged, refusals %s%n", w.log.count(), w.refused);

        assertThat(w.log.assertHeldBy(
                        key -> {
                            byte[] v = fresh.map().get(bytes(key));
                            return v == null ? null : new String(v, StandardCharsets.US_ASCII);
                        },
                        "new leader"))
                .isPositive();

        assertThat(fresh.role().kind()).isEqualTo(MemberRole.Kind.LEADER);
        assertThat(fresh.role().term()).isGreaterThan(oldTerm);
        assertThat(roles.get(fresh))
                .as("the successor's listener saw it follow, then lead")
                .extracting(MemberRole::kind)
                .containsSubsequence(MemberRole.Kind.FOLLOWER, MemberRole.Kind.LEADER);
        TestGroup.await("the old leader's listener told it stopped leading (session lost)", 30, () -> {
            List<MemberRole.Kind> kinds =
                    roles.get(old).stream().map(MemberRole::kind).toList();
            int led = kinds.indexOf(MemberRole.Kind.LEADER);
            return led >= 0 && kinds.lastIndexOf(MemberRole.Kind.NONE) > led;
        });

        // the partition heals: the old leader follows the new one, dropping what it wrote unacknowledged
        partition(old, false);
        ClusterMember other =
                members.stream().filter(m -> m != old && m != fresh).findFirst().orElseThrow();
        String freshId = fresh.member().nodeId();
        TestGroup.await(
                "both others streaming from the new leader",
                60,
                () -> other.member().following().equals(freshId)
                        && other.member().streaming()
                        && old.member().following().equals(freshId)
                        && old.member().streaming());
        TestGroup.await("the old leader's role", 30, () -> old.role().kind() == MemberRole.Kind.FOLLOWER);
        TestGroup.await("the ISR back to two", 60, () -> fresh.inSyncReplicas().size() == 2);
        fresh.put(bytes("k9999999"), bytes("v9999999"));
        TestGroup.await(
                "all three converged",
                60,
                () -> Digest.of(other.map()).equals(Digest.of(fresh.map()))
                        && Digest.of(old.map()).equals(Digest.of(fresh.map())));
    }
}
