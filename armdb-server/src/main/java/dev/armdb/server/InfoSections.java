package dev.armdb.server;

import dev.armdb.FixedMap;
import dev.armdb.StoreStats;
import java.util.Locale;

/**
 * The INFO sections server, clients, memory, persistence and stats, with the fields Redis tools read (redis-cli
 * --stat reads used_memory, connected_clients, blocked_clients, total_commands_processed and
 * total_connections_received). Fields Redis has and armdb lacks read 0 or a neutral value. Any thread.
 */
final class InfoSections {
    private final Node node;

    InfoSections(Node node) {
        this.node = node;
    }

    private static void field(StringBuilder sb, String name, Object value) {
        sb.append(name).append(':').append(value).append("\r\n");
    }

    void server(StringBuilder sb) {
        FixedMap m = node.map();
        long uptime = (System.currentTimeMillis() - node.respClients().startedMillis()) / 1000;
        sb.append("# Server\r\n");
        field(sb, "redis_version", ConnectionCommands.REDIS_VERSION);
        field(sb, "armdb_version", "0.1.0");
        field(sb, "redis_mode", "standalone");
        field(sb, "os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        field(sb, "arch_bits", 64);
        field(sb, "process_id", ProcessHandle.current().pid());
        field(sb, "run_id", runId(m.databaseId()));
        field(sb, "tcp_port", node.respAddress().getPort());
        field(sb, "uptime_in_seconds", uptime);
        field(sb, "uptime_in_days", uptime / 86_400);
        field(sb, "database_id", m.databaseId());
        field(sb, "key_size", m.config().keySize());
        field(sb, "value_size", m.config().valueSize());
        field(sb, "shards", m.config().shards());
        field(sb, "durability", m.config().durability().name().toLowerCase(Locale.ROOT));
        sb.append("\r\n");
    }

    /** A 40-character hex id, as Redis's run_id (stable for the collection: tools use it only to spot restarts). */
    private String runId(String databaseId) {
        String hex = Long.toHexString(node.respClients().startedMillis())
                + Integer.toHexString(databaseId.hashCode())
                + "0".repeat(40);
        return hex.substring(0, 40);
    }

    void clients(StringBuilder sb) {
        sb.append("# Clients\r\n");
        field(sb, "connected_clients", node.respConnectedClients());
        field(sb, "maxclients", node.config().maxClients());
        field(sb, "blocked_clients", 0);
        field(sb, "tracking_clients", 0);
        sb.append("\r\n");
    }

    void memory(StringBuilder sb) {
        Runtime rt = Runtime.getRuntime();
        long heap = rt.totalMemory() - rt.freeMemory();
        StoreStats st = node.map().stats();
        long used = heap + st.fileBytes() + st.indexBytes();
        sb.append("# Memory\r\n");
        field(sb, "used_memory", used);
        field(sb, "used_memory_human", human(used));
        field(sb, "used_memory_heap", heap);
        field(sb, "used_memory_files", st.fileBytes());
        field(sb, "used_memory_index", st.indexBytes());
        field(sb, "maxmemory", 0);
        field(sb, "maxmemory_human", "0B");
        field(sb, "maxmemory_policy", "noeviction");
        sb.append("\r\n");
    }

    private static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + "B";
        }
        String units = "KMGTP";
        int u = (63 - Long.numberOfLeadingZeros(bytes)) / 10;
        return String.format(Locale.ROOT, "%.2f%c", bytes / Math.pow(1024, u), units.charAt(u - 1));
    }

    void persistence(StringBuilder sb) {
        sb.append("# Persistence\r\n");
        field(sb, "loading", 0);
        field(sb, "async_loading", 0);
        field(sb, "rdb_changes_since_last_save", 0);
        field(sb, "rdb_bgsave_in_progress", 0);
        field(sb, "rdb_last_bgsave_status", "ok");
        field(sb, "aof_enabled", 0);
        field(sb, "aof_rewrite_in_progress", 0);
        field(sb, "armdb_durability", node.map().config().durability().name().toLowerCase(Locale.ROOT));
        sb.append("\r\n");
    }

    void stats(StringBuilder sb) {
        RespClients c = node.respClients();
        sb.append("# Stats\r\n");
        field(sb, "total_connections_received", c.connectionsReceived());
        field(sb, "total_commands_processed", c.commandsProcessed());
        field(sb, "instantaneous_ops_per_sec", c.opsPerSecond());
        field(sb, "rejected_connections", c.rejectedConnections());
        field(sb, "expired_keys", 0);
        field(sb, "evicted_keys", 0);
        field(sb, "keyspace_hits", c.hits());
        field(sb, "keyspace_misses", c.misses());
        field(sb, "pubsub_channels", 0);
        field(sb, "pubsub_patterns", 0);
        sb.append("\r\n");
    }
}
