package dev.armdb;

import dev.armdb.store.Store;
import java.nio.file.Path;

/**
 * A persistent hash map of fixed-size keys to fixed-size values, kept in memory-mapped shard files. The fastest
 * collection of armdb: point reads and writes, no order.
 *
 * <pre>{@code
 * FixedConfig cfg = FixedConfig.builder().keySize(16).valueSize(32).durability(Durability.GROUP).build();
 * try (FixedMap map = FixedMap.open(Path.of("data/sessions"), cfg)) {
 *     long lsn = map.put(key, value);
 *     byte[] buf = new byte[32];
 *     if (map.get(key, buf)) { ... }
 * }
 * }</pre>
 *
 * <p>Thread-safe; see {@link FixedStore} for the contract of every operation.
 */
public final class FixedMap extends FixedStore {
    private FixedMap(Store store) {
        super(store);
    }

    /**
     * Opens the collection in {@code dir}, creating it (and the directory) if it does not exist.
     *
     * @throws ArmDbConfigMismatchException if the collection exists with other sizes, shard count or routing
     * @throws ArmDbCorruptException if its {@code db.meta} or a shard header is damaged
     * @throws ArmDbException if the collection is already open (in this or another process)
     */
    public static FixedMap open(Path dir, FixedConfig config) {
        return new FixedMap(Store.open(dir, java.util.Objects.requireNonNull(config, "config")));
    }

    /**
     * The configuration stored in {@code dir}'s {@code db.meta} (sizes, shards, routing) with default run-time
     * settings, for reopening with other run-time settings via {@link FixedConfig#toBuilder()}. Reads one small file;
     * safe while the collection is open elsewhere.
     *
     * @throws ArmDbException if there is no collection in {@code dir}
     * @throws ArmDbCorruptException if {@code db.meta} is damaged
     */
    public static FixedConfig storedConfig(Path dir) {
        return dev.armdb.store.DbMeta.read(dir.toAbsolutePath().normalize())
                .toConfig()
                .build();
    }

    /**
     * Opens an existing collection with the sizes in its {@code db.meta} and default run-time settings.
     *
     * @throws ArmDbException if there is no collection in {@code dir} or it is already open
     */
    public static FixedMap open(Path dir) {
        return new FixedMap(Store.open(dir, null));
    }
}
