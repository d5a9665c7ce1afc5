package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

/**
 * Reads a cluster's status from ZooKeeper without writing anything: the group states, the member znodes and the
 * controller latch's holder. The connect string's {@code /CHROOT} is given to ZooKeeper as its chroot (not as Curator's
 * namespace, which would create the path): a cluster that does not exist reads as one without groups.
 *
 * <p>Threading: one thread at a time; {@link #close()} from any thread.
 */
public final class ClusterStatusReader implements AutoCloseable {
    private static final String LATCH_SEQUENCE_MARK = "latch-";

    private final String connect;
    private final CuratorFramework zk;
    private final LongSupplier wallMillis;

    private ClusterStatusReader(String connect, CuratorFramework zk, LongSupplier wallMillis) {
        this.connect = connect;
        this.zk = zk;
        this.wallMillis = wallMillis;
    }

    /**
     * Connects to ZooKeeper at {@code connectString} ({@code HOST:PORT[,HOST:PORT...][/CHROOT]}), waiting at most
     * {@code connectTimeout}; each later read is bounded by about twice that.
     *
     * @throws ArmDbException if no server answered within {@code connectTimeout}
     */
    public static ClusterStatusReader open(String connectString, Duration connectTimeout) {
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException("a ZooKeeper connect string (host:port[/chroot]) is needed, got none");
        }
        int timeoutMs = (int) Math.clamp(connectTimeout.toMillis(), 100, Integer.MAX_VALUE);
        CuratorFramework zk = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs(Math.max(timeoutMs, 4_000))
                .connectionTimeoutMs(timeoutMs)
                .retryPolicy(new RetryNTimes(1, 100))
                // the tracker would rewrite the connect string from the ensemble's configuration, chroot and all
                .ensembleTracker(false)
                .build();
        try {
            zk.start();
            if (!zk.blockUntilConnected(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new ArmDbException("cannot reach ZooKeeper at " + connectString + " within " + timeoutMs
                        + " ms: is a server running there, and is the connect string right?");
            }
            return new ClusterStatusReader(connectString, zk, System::currentTimeMillis);
        } catch (InterruptedException e) {
            zk.close();
            Thread.currentThread().interrupt();
            throw new ArmDbException("interrupted while connecting to ZooKeeper at " + connectString, e);
        } catch (RuntimeException e) {
            zk.close();
            throw e;
        }
    }

    /**
     * Reads the status once.
     *
     * @throws ArmDbException if ZooKeeper fails the reads (the connection was lost, a server error)
     */
    public ClusterStatus read() {
        try {
            long at = wallMillis.getAsLong();
            String controller = controller();
            List<ClusterStatus.Group> groups = new ArrayList<>();
            for (String g : children(GroupPaths.GROUPS).stream().sorted().toList()) {
                groups.add(ClusterStatus.Group.of(g, state(g), members(g)));
            }
            return new ClusterStatus(connect, at, controller, groups);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ArmDbException("reading the cluster at " + connect + " failed: " + e, e);
        }
    }

    /** The children of {@code path}, none if it does not exist. */
    private List<String> children(String path) throws Exception {
        try {
            return zk.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** Group {@code g}'s state, null if it has none or it cannot be decoded. */
    private GroupState state(String g) throws Exception {
        try {
            return GroupStateLayout.decode(zk.getData().forPath(GroupPaths.state(g)));
        } catch (KeeperException.NoNodeException e) {
            return null;
        } catch (ArmDbCorruptException e) {
            throw new ArmDbException("group " + g + ": its state znode is unreadable: " + e.getMessage(), e);
        }
    }

    /** Group {@code g}'s present members; a damaged one, or one that names another node, is left out. */
    private List<MemberInfo> members(String g) throws Exception {
        List<MemberInfo> out = new ArrayList<>();
        for (String n : children(GroupPaths.members(g))) {
            try {
                MemberInfo m = MemberLayout.decode(zk.getData().forPath(GroupPaths.member(g, n)));
                if (m.nodeId().equals(n)) {
                    out.add(m);
                }
            } catch (KeeperException.NoNodeException | ArmDbCorruptException e) {
                // its session ended between the listing and the read, or it is damaged: not shown as present
            }
        }
        return out;
    }

    /**
     * The node id holding the controller latch: Curator's LeaderLatch makes the participant with the lowest sequence
     * number the leader, and stores the participant's id as the znode's data. Empty if none.
     */
    private String controller() throws Exception {
        List<String> latch = new ArrayList<>(children(GroupPaths.CONTROLLER));
        latch.removeIf(n -> !n.contains(LATCH_SEQUENCE_MARK));
        latch.sort(Comparator.comparing(n -> n.substring(n.lastIndexOf(LATCH_SEQUENCE_MARK))));
        for (String n : latch) {
            try {
                return new String(
                        zk.getData().forPath(GroupPaths.CONTROLLER + "/" + n), java.nio.charset.StandardCharsets.UTF_8);
            } catch (KeeperException.NoNodeException e) {
                // that participant left between the listing and the read: the next one holds the latch
            }
        }
        return "";
    }

    @Override
    public void close() {
        zk.close();
    }
}
