package dev.armdb.cluster;

import java.net.InetSocketAddress;
import java.util.List;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Jedis as docs/cluster.md recommends: find the leader by asking each node {@code ROLE}, keep a pooled {@code
 * RedisClient} to it, and look again when a connection breaks or a write is answered {@code -READONLY};
 * {@code -TRYAGAIN} and {@code -NOREPLICAS} are retried on the same client. The socket timeout is above the longest a
 * write's reply may wait for the in-sync followers.
 *
 * <p>Threading: its writer thread only.
 */
public final class JedisLeaderWriter extends ClientWriter {
    private final List<InetSocketAddress> nodes;
    private final JedisClientConfig config = DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis(2_000)
            .socketTimeoutMillis(15_000)
            .build();
    private final JedisClientConfig probeConfig = DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis(1_000)
            .socketTimeoutMillis(1_000)
            .build();
    private RedisClient client;
    private HostAndPort at;

    /** A writer of 8-byte keys and values over the RESP addresses {@code nodes}, asked for the leader in this order. */
    public JedisLeaderWriter(List<InetSocketAddress> nodes) {
        this(nodes, 8, 8);
    }

    /** A writer of keys and values of the sizes given over {@code nodes}, asked for the leader in this order. */
    public JedisLeaderWriter(List<InetSocketAddress> nodes, int keySize, int valueSize) {
        super("Jedis", 'j', keySize, valueSize);
        this.nodes = List.copyOf(nodes);
    }

    @Override
    protected int set(String key, String value) {
        if (client == null) {
            at = findLeader();
            client = RedisClient.builder().hostAndPort(at).clientConfig(config).build();
        }
        try {
            String reply = client.set(key, value);
            if (!"OK".equals(reply)) {
                throw new JedisDataException("SET answered " + reply);
            }
            return at.getPort();
        } catch (JedisConnectionException e) {
            drop();
            throw e;
        } catch (JedisDataException e) {
            if (e.getMessage().startsWith("READONLY")) {
                drop();
            }
            throw e;
        }
    }

    /** The node answering {@code ROLE} with {@code master}, asked in the order given. */
    private HostAndPort findLeader() {
        for (InetSocketAddress n : nodes) {
            HostAndPort hp = new HostAndPort(n.getAddress().getHostAddress(), n.getPort());
            try (Jedis probe = new Jedis(hp, probeConfig)) {
                if ("master".equals(probe.role().getFirst())) {
                    return hp;
                }
            } catch (JedisException e) {
                // down or unreachable: ask the next one
            }
        }
        throw new JedisConnectionException("no node of " + nodes + " answers ROLE with master");
    }

    private void drop() {
        if (client != null) {
            client.close();
            client = null;
        }
    }

    @Override
    protected String kind(RuntimeException e) {
        return e instanceof JedisConnectionException ? "connection" : errorCode(e.getMessage());
    }

    @Override
    public void close() {
        drop();
    }
}
