package dev.armdb.micrometer;

import dev.armdb.FixedStore;
import dev.armdb.StoreStats;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Exposes a collection's engine gauges (per shard: live/free/deleted/corrupt slots, LSN, file bytes) and, when
 * given, a replication server's or client's counters and per-shard lag, as Micrometer meters named {@code
 * armdb.*} with a {@code shard} tag (and {@code role}). Reads the plain counters of the modules when scraped;
 * adds nothing to their hot paths.
 *
 * <p>Thread-safe once bound. The suppliers let a node switch roles: meters read whatever server or client is
 * current.
 */
public final class ArmDbMeterBinder implements MeterBinder {
    private final FixedStore store;
    private final Supplier<ReplicationServer> server;
    private final Supplier<ReplicationClient> client;

    /**
     * A binder for {@code store} and whatever replication server and client the suppliers return (null: none).
     */
    public ArmDbMeterBinder(FixedStore store, Supplier<ReplicationServer> server, Supplier<ReplicationClient> client) {
        this.store = store;
        this.server = server;
        this.client = client;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        int shards = store.config().shards();
        for (int s = 0; s < shards; s++) {
            int shard = s;
            Tags tags = Tags.of("shard", Integer.toString(s));
            shardGauge(registry, "armdb.slots.live", tags, shard, StoreStats.ShardStats::liveSlots);
            shardGauge(registry, "armdb.slots.free", tags, shard, StoreStats.ShardStats::freeSlots);
            shardGauge(registry, "armdb.slots.deleted", tags, shard, StoreStats.ShardStats::deletedSlots);
            shardGauge(registry, "armdb.slots.corrupt", tags, shard, StoreStats.ShardStats::corruptSlots);
            shardGauge(registry, "armdb.lsn", tags, shard, StoreStats.ShardStats::maxLsn);
            shardGauge(registry, "armdb.file.bytes", tags, shard, StoreStats.ShardStats::fileBytes);
            Gauge.builder("armdb.replication.follower.acked_lsn", this, b -> minAcked(shard))
                    .strongReference(true)
                    .tags(tags)
                    .description("Smallest LSN acknowledged by the followers of this shard (leader)")
                    .register(registry);
            Gauge.builder("armdb.replication.lag_lsn", this, b -> lag(shard))
                    .strongReference(true)
                    .tags(tags)
                    .description("LSNs the slowest follower (leader) or this follower is behind")
                    .register(registry);
        }
        Gauge.builder("armdb.replication.followers", this, b -> followers())
                .strongReference(true)
                .description("Follower sessions connected (leader)")
                .register(registry);
        counters(
                registry,
                "leader",
                () -> server.get() == null ? null : server.get().metrics());
        counters(
                registry,
                "follower",
                () -> client.get() == null ? null : client.get().metrics());
    }

    private void shardGauge(
            MeterRegistry registry, String name, Tags tags, int shard, ToDoubleFunction<StoreStats.ShardStats> f) {
        Gauge.builder(
                        name,
                        store,
                        st -> st.isClosed()
                                ? Double.NaN
                                : f.applyAsDouble(st.stats().shards().get(shard)))
                .tags(tags)
                .register(registry);
    }

    private void counters(MeterRegistry registry, String role, Supplier<ReplicationMetrics> metrics) {
        ReplicationMetrics probe = new ReplicationMetrics();
        for (Map.Entry<String, Long> e : probe.snapshot().entrySet()) {
            String name = e.getKey();
            // a meter holds its object weakly: the store lives as long as the binding is useful, the supplier
            // (captured by the function, which the meter holds strongly) might be collected at any time otherwise
            FunctionCounter.builder(name, store, st -> {
                        ReplicationMetrics r = metrics.get();
                        return r == null ? 0 : r.snapshot().get(name);
                    })
                    .tags("role", role)
                    .register(registry);
        }
    }

    private double minAcked(int shard) {
        ReplicationServer s = server.get();
        if (s == null) {
            return Double.NaN;
        }
        return s.status().stream()
                .filter(f -> f.shard() == shard)
                .mapToLong(FollowerStatus::ackedLsn)
                .min()
                .orElse(0);
    }

    private double lag(int shard) {
        ReplicationClient c = client.get();
        if (c != null) {
            return c.status().stream()
                    .filter(st -> st.shard() == shard)
                    .mapToLong(ShardStatus::lagLsn)
                    .findFirst()
                    .orElse(0);
        }
        ReplicationServer s = server.get();
        if (s == null) {
            return 0;
        }
        return s.status().stream()
                .filter(f -> f.shard() == shard)
                .mapToLong(FollowerStatus::lagLsn)
                .max()
                .orElse(0);
    }

    private double followers() {
        ReplicationServer s = server.get();
        return s == null
                ? 0
                : s.status().stream().map(FollowerStatus::followerId).distinct().count();
    }
}
