package dev.armdb.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DnsResolver;
import io.lettuce.core.resource.SocketAddressResolver;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce as docs/cluster.md recommends: one connection with automatic reconnection (the default), a reconnect
 * delay capped at one second, a command timeout above the longest a write's reply may wait, and a {@link
 * SocketAddressResolver} that finds the leader by asking each node {@code ROLE} on every connect and reconnect.
 * Refused writes are retried on the same connection.
 *
 * <p>Threading: its writer thread only (Lettuce runs the resolver on threads of its own).
 */
public final class LettuceLeaderWriter extends ClientWriter {
    private final LeaderResolver resolver;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    /** A writer of 8-byte keys and values over the RESP addresses {@code nodes}, asked for the leader in this order. */
    public LettuceLeaderWriter(List<InetSocketAddress> nodes) {
        this(nodes, 8, 8);
    }

    /** A writer of keys and values of the sizes given over {@code nodes}, asked for the leader in this order. */
    public LettuceLeaderWriter(List<InetSocketAddress> nodes, int keySize, int valueSize) {
        super("Lettuce", 'l', keySize, valueSize);
        resolver = new LeaderResolver(nodes);
        resources = ClientResources.builder()
                .socketAddressResolver(resolver)
                .reconnectDelay(
                        Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        // the URI's address is never dialed: the resolver maps it to the leader
        InetSocketAddress any = nodes.getFirst();
        client = RedisClient.create(
                resources,
                RedisURI.builder()
                        .withHost(any.getAddress().getHostAddress())
                        .withPort(any.getPort())
                        .withTimeout(Duration.ofSeconds(15))
                        .build());
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(Duration.ofSeconds(2))
                        .build())
                .build());
        connection = client.connect();
    }

    @Override
    protected int set(String key, String value) {
        String reply = connection.sync().set(key, value);
        if (!"OK".equals(reply)) {
            throw new RedisException("SET answered " + reply);
        }
        return resolver.current.getPort();
    }

    @Override
    protected String kind(RuntimeException e) {
        if (e instanceof RedisCommandTimeoutException) {
            return "timeout";
        }
        if (e instanceof RedisConnectionException) {
            return "connection";
        }
        if (e instanceof RedisCommandExecutionException) {
            return errorCode(e.getMessage());
        }
        return e.getClass().getSimpleName();
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
        resources.shutdown();
        resolver.close();
    }

    /**
     * Resolves every address Lettuce dials to the node answering {@code ROLE} with {@code master}, asked in the order
     * given; fails (and Lettuce tries again after its reconnect delay) while none does. Lettuce calls it on a
     * connect and on every reconnect, off its I/O threads.
     */
    static final class LeaderResolver extends SocketAddressResolver implements AutoCloseable {
        private final List<InetSocketAddress> nodes;
        private final RedisClient probe;
        /** The address resolved last: the node the connection reaches. */
        volatile InetSocketAddress current;

        LeaderResolver(List<InetSocketAddress> nodes) {
            super(DnsResolver.unresolved());
            this.nodes = List.copyOf(nodes);
            this.probe = RedisClient.create();
            probe.setOptions(ClientOptions.builder()
                    .autoReconnect(false)
                    .socketOptions(SocketOptions.builder()
                            .connectTimeout(Duration.ofSeconds(1))
                            .build())
                    .build());
        }

        @Override
        public SocketAddress resolve(RedisURI ignored) {
            for (InetSocketAddress n : nodes) {
                RedisURI uri = RedisURI.builder()
                        .withHost(n.getAddress().getHostAddress())
                        .withPort(n.getPort())
                        .withTimeout(Duration.ofSeconds(1))
                        .build();
                try (StatefulRedisConnection<String, String> c = probe.connect(uri)) {
                    if ("master".equals(c.sync().role().getFirst())) {
                        current = n;
                        return n;
                    }
                } catch (RedisException e) {
                    // down or unreachable: ask the next one
                }
            }
            throw new RedisConnectionException("no node of " + nodes + " answers ROLE with master");
        }

        @Override
        public void close() {
            probe.shutdown();
        }
    }
}
