package dev.armdb.server;

import dev.armdb.FixedConfig;
import dev.armdb.replication.ReplicationSecret;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * How to run a {@link Node}. Immutable.
 *
 * @param dir the collection directory
 * @param config sizes and durability used to create the collection (null: it must exist)
 * @param resp address of the RESP front-end
 * @param replication address of the replication server (port 0 = ephemeral)
 * @param follow the leader's replication address to follow at start, or null to lead
 * @param metrics address of the Prometheus {@code /metrics} endpoint, or null for none
 * @param ioThreads RESP event-loop threads (0: one per available processor)
 * @param replicationSecret the secret leader and followers prove to each other at every replication handshake, or
 *     null for none (anyone who reaches the replication port can follow)
 * @param replicationTls the TLS context of the replication port, used as leader and as follower (mutual TLS 1.3),
 *     or null for plain TCP
 */
public record NodeConfig(
        Path dir,
        FixedConfig config,
        InetSocketAddress resp,
        InetSocketAddress replication,
        InetSocketAddress follow,
        InetSocketAddress metrics,
        int ioThreads,
        ReplicationSecret replicationSecret,
        SSLContext replicationTls) {
    /** A configuration with one RESP event loop per available processor, no replication secret and no TLS. */
    public NodeConfig(
            Path dir,
            FixedConfig config,
            InetSocketAddress resp,
            InetSocketAddress replication,
            InetSocketAddress follow,
            InetSocketAddress metrics) {
        this(dir, config, resp, replication, follow, metrics, 0, null, null);
    }
}
