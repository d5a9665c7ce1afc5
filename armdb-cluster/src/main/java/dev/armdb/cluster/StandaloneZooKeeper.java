package dev.armdb.cluster;

import dev.armdb.ArmDbException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A standalone ZooKeeper server run from ZooKeeper's own classes, for development and tests ({@code bin/armdb
 * zookeeper}); production points nodes at an existing ensemble. Snapshots and the transaction log live in one
 * directory; clients are served on one address (loopback unless told otherwise), without the admin HTTP server.
 *
 * <p>Threading: {@link #start} and {@link #close} from any thread; ZooKeeper runs its own threads.
 */
public final class StandaloneZooKeeper implements AutoCloseable {
    /** ZooKeeper's tick: the unit of its session timeouts (sessions may last 2 to 20 ticks). */
    public static final int TICK_MILLIS = 500;

    private static final int MAX_CLIENT_CONNECTIONS = 1_000;

    private final ZooKeeperServer server;
    private final ServerCnxnFactory connections;

    private StandaloneZooKeeper(ZooKeeperServer server, ServerCnxnFactory connections) {
        this.server = server;
        this.connections = connections;
    }

    /**
     * Starts a server keeping its data in {@code dir} (created if missing) and serving clients on {@code bind} (port
     * 0: an ephemeral port, see {@link #address()}).
     *
     * @throws ArmDbException if the directory cannot be used or the address not bound
     */
    public static StandaloneZooKeeper start(Path dir, InetSocketAddress bind) {
        ServerCnxnFactory factory = null;
        try {
            Files.createDirectories(dir);
            ZooKeeperServer zk = new ZooKeeperServer(dir.toFile(), dir.toFile(), TICK_MILLIS);
            factory = ServerCnxnFactory.createFactory(bind, MAX_CLIENT_CONNECTIONS);
            factory.startup(zk);
            return new StandaloneZooKeeper(zk, factory);
        } catch (IOException | RuntimeException | LinkageError e) {
            shutdown(factory);
            throw new ArmDbException("cannot start ZooKeeper in " + dir + " on " + bind + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutdown(factory);
            throw new ArmDbException("interrupted while starting ZooKeeper on " + bind, e);
        }
    }

    /** Stops the threads of a server that failed to start (they would keep the JVM alive). */
    private static void shutdown(ServerCnxnFactory factory) {
        if (factory != null) {
            factory.shutdown();
        }
    }

    /** The address clients connect to (the bound port when started with port 0). */
    public InetSocketAddress address() {
        InetSocketAddress a = connections.getLocalAddress();
        return new InetSocketAddress(a.getAddress(), connections.getLocalPort());
    }

    /** The connect string of this server, {@code host:port}. */
    public String connectString() {
        InetSocketAddress a = address();
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /**
     * Ends session {@code sessionId} on the server as if its timeout had passed: its ephemeral znodes are deleted and
     * its connection closed, so its client learns of the expiry when it reconnects (what fault tests do to a node that
     * still runs and still reaches the server). A session that does not exist is ignored. Any thread.
     */
    public void expireSession(long sessionId) {
        server.expire(sessionId);
    }

    /** Stops serving and closes the data files. Idempotent. */
    @Override
    public void close() {
        connections.shutdown();
        if (server.isRunning()) {
            server.shutdown();
        }
    }
}
