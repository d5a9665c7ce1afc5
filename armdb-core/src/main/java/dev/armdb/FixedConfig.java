package dev.armdb;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of a collection: record sizes, shard count and routing (fixed at creation and kept in {@code
 * db.meta}), and run-time settings (durability, group interval, growth step, change feed size) that may differ
 * between opens.
 *
 * <p>Immutable and safe to share between threads. Build one with {@link #builder()}.
 */
public final class FixedConfig {
    /**
     * {@link Builder#logCheckpointBytes}: checkpoint when the redo log holds twice as many bytes as the shard's slot
     * file, at least 4 MiB and at most 256 MiB.
     */
    public static final long AUTO_LOG_CHECKPOINT = 0;

    /** Smallest key size in bytes. */
    public static final int MIN_KEY_SIZE = 1;
    /** Largest key size in bytes. */
    public static final int MAX_KEY_SIZE = 1024;
    /** Smallest value size in bytes (a set of keys). */
    public static final int MIN_VALUE_SIZE = 0;
    /** Largest value size in bytes. */
    public static final int MAX_VALUE_SIZE = 65_000;
    /** Smallest shard count. */
    public static final int MIN_SHARDS = 1;
    /** Largest shard count. */
    public static final int MAX_SHARDS = 256;
    /** Most slots one shard can hold (2^30); slot ids fit in 30 bits. */
    public static final int MAX_SLOTS_PER_SHARD = 1 << 30;

    private final int keySize;
    private final int valueSize;
    private final int shards;
    private final ShardRouting routing;
    private final Durability durability;
    private final Duration groupInterval;
    private final long growthStepBytes;
    private final int maxSlotsPerShard;
    private final int changeFeedCapacity;
    private final long logCheckpointBytes;
    private final boolean privateSlotPages;

    private FixedConfig(Builder b) {
        this.keySize = checkRange("key size", b.keySize, MIN_KEY_SIZE, MAX_KEY_SIZE);
        this.valueSize = checkRange("value size", b.valueSize, MIN_VALUE_SIZE, MAX_VALUE_SIZE);
        this.shards = checkRange("shard count", b.shards, MIN_SHARDS, MAX_SHARDS);
        this.routing = Objects.requireNonNull(b.routing, "routing");
        this.durability = Objects.requireNonNull(b.durability, "durability");
        this.groupInterval = Objects.requireNonNull(b.groupInterval, "groupInterval");
        if (groupInterval.isNegative() || groupInterval.isZero()) {
            throw new IllegalArgumentException("group interval must be positive, got " + groupInterval);
        }
        if (b.growthStepBytes < 4096 || b.growthStepBytes > (1L << 30)) {
            throw new IllegalArgumentException(
                    "growth step must be between 4096 bytes and 1 GiB, got " + b.growthStepBytes);
        }
        this.growthStepBytes = b.growthStepBytes;
        this.maxSlotsPerShard = checkRange("max slots per shard", b.maxSlotsPerShard, 1, MAX_SLOTS_PER_SHARD);
        if (Integer.bitCount(b.changeFeedCapacity) != 1 || b.changeFeedCapacity < 16) {
            throw new IllegalArgumentException(
                    "change feed capacity must be a power of two >= 16, got " + b.changeFeedCapacity);
        }
        this.changeFeedCapacity = b.changeFeedCapacity;
        if (b.logCheckpointBytes != AUTO_LOG_CHECKPOINT
                && (b.logCheckpointBytes < 1024 || b.logCheckpointBytes > (1L << 30))) {
            throw new IllegalArgumentException("redo log checkpoint size must be 0 (automatic) or between 1024 bytes"
                    + " and 1 GiB, got " + b.logCheckpointBytes);
        }
        this.logCheckpointBytes = b.logCheckpointBytes;
        this.privateSlotPages = b.privateSlotPages;
    }

    private static int checkRange(String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    /** A builder with the defaults: 16 shards, HASH routing, GROUP durability every 10 ms, 4 MiB growth. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, to change a few run-time settings. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.keySize = keySize;
        b.valueSize = valueSize;
        b.shards = shards;
        b.routing = routing;
        b.durability = durability;
        b.groupInterval = groupInterval;
        b.growthStepBytes = growthStepBytes;
        b.maxSlotsPerShard = maxSlotsPerShard;
        b.changeFeedCapacity = changeFeedCapacity;
        b.logCheckpointBytes = logCheckpointBytes;
        b.privateSlotPages = privateSlotPages;
        return b;
    }

    /** Key size in bytes; every key has exactly this length. */
    public int keySize() {
        return keySize;
    }

    /** Value size in bytes; every value has exactly this length. */
    public int valueSize() {
        return valueSize;
    }

    /** Number of shards (slot files, independent writers). */
    public int shards() {
        return shards;
    }

    /** How keys map to shards. */
    public ShardRouting routing() {
        return routing;
    }

    /** What a returned mutation survives. */
    public Durability durability() {
        return durability;
    }

    /** How often {@link Durability#GROUP} forces dirty pages. */
    public Duration groupInterval() {
        return groupInterval;
    }

    /** Bytes a shard file grows by (rounded to a power-of-two number of slots). */
    public long growthStepBytes() {
        return growthStepBytes;
    }

    /** Most slots a shard may hold before writes fail with {@link ArmDbFullException}. */
    public int maxSlotsPerShard() {
        return maxSlotsPerShard;
    }

    /** Entries of the per-shard change feed kept for replication (a power of two). */
    public int changeFeedCapacity() {
        return changeFeedCapacity;
    }

    /**
     * Bytes of redo log records after which a shard checkpoints (forces its slot file and starts a new log
     * generation), or {@link #AUTO_LOG_CHECKPOINT}; see docs/format.md, "Redo log". Not used in {@link
     * Durability#NONE}.
     */
    public long logCheckpointBytes() {
        return logCheckpointBytes;
    }

    /**
     * True if the slot files are mapped privately under {@link Durability#GROUP} and {@link Durability#SYNC} (the
     * default); see {@link Builder#privateSlotPages}. {@link Durability#NONE} always maps them shared.
     */
    public boolean privateSlotPages() {
        return privateSlotPages;
    }

    @Override
    public String toString() {
        return "FixedConfig[keySize=" + keySize + ", valueSize=" + valueSize + ", shards=" + shards + ", routing="
                + routing + ", durability=" + durability + ", groupInterval=" + groupInterval + ", growthStepBytes="
                + growthStepBytes + ", maxSlotsPerShard=" + maxSlotsPerShard + ", changeFeedCapacity="
                + changeFeedCapacity + ", logCheckpointBytes=" + logCheckpointBytes + ", privateSlotPages="
                + privateSlotPages + "]";
    }

    /** Collects settings for a {@link FixedConfig}. Not thread-safe; use from one thread. */
    public static final class Builder {
        private int keySize = -1;
        private int valueSize = -1;
        private int shards = 16;
        private ShardRouting routing = ShardRouting.HASH;
        private Durability durability = Durability.GROUP;
        private Duration groupInterval = Duration.ofMillis(10);
        private long growthStepBytes = 4L << 20;
        private int maxSlotsPerShard = MAX_SLOTS_PER_SHARD;
        private int changeFeedCapacity = 1 << 16;
        private long logCheckpointBytes = AUTO_LOG_CHECKPOINT;
        private boolean privateSlotPages = true;

        private Builder() {}

        /** Key size in bytes, 1..1024. Required. */
        public Builder keySize(int keySize) {
            this.keySize = keySize;
            return this;
        }

        /** Value size in bytes, 0..65,000. Required. */
        public Builder valueSize(int valueSize) {
            this.valueSize = valueSize;
            return this;
        }

        /** Number of shards, 1..256. Default 16. */
        public Builder shards(int shards) {
            this.shards = shards;
            return this;
        }

        /** Key-to-shard routing. Default {@link ShardRouting#HASH}. */
        public Builder routing(ShardRouting routing) {
            this.routing = routing;
            return this;
        }

        /** Durability mode. Default {@link Durability#GROUP}. */
        public Builder durability(Durability durability) {
            this.durability = durability;
            return this;
        }

        /** Interval of background forces in {@link Durability#GROUP}. Default 10 ms. */
        public Builder groupInterval(Duration groupInterval) {
            this.groupInterval = groupInterval;
            return this;
        }

        /** Bytes a shard file grows by, 4 KiB..1 GiB. Default 4 MiB. */
        public Builder growthStepBytes(long growthStepBytes) {
            this.growthStepBytes = growthStepBytes;
            return this;
        }

        /** Most slots per shard, 1..2^30. Default 2^30. */
        public Builder maxSlotsPerShard(int maxSlotsPerShard) {
            this.maxSlotsPerShard = maxSlotsPerShard;
            return this;
        }

        /** Entries of each shard's change feed, a power of two >= 16. Default 65,536. */
        public Builder changeFeedCapacity(int changeFeedCapacity) {
            this.changeFeedCapacity = changeFeedCapacity;
            return this;
        }

        /**
         * Bytes of redo log records a shard writes before it checkpoints, 1 KiB..1 GiB, or {@link
         * #AUTO_LOG_CHECKPOINT} (the default): twice the size of the shard's slot file, at least 4 MiB and at most
         * 256 MiB. A crash replays at most about twice that per shard, and the shard's two log files take up to twice
         * that on disk. A checkpoint writes back and forces every slot-file chunk written since the last one (with
         * random writes, nearly the whole file): a log twice as large as the slot file pays that once for about twice
         * as many writes as the file has slots. A smaller size saves disk and replay time for more write-back.
         */
        public Builder logCheckpointBytes(long logCheckpointBytes) {
            this.logCheckpointBytes = logCheckpointBytes;
            return this;
        }

        /**
         * Whether, under {@link Durability#GROUP} and {@link Durability#SYNC}, the slot files are mapped privately
         * (the default) or shared. Private: no force or kernel write-back ever write-protects a page a writer stores
         * into (through {@code serve} under SET -P 16 with 600,000 keys, a checkpoint of shared pages cost about 8 us
         * of CPU per SET instead of 3), but every slot-file page written since the open is the process's own memory
         * as well as in the page cache. Shared: the kernel may evict written pages once a checkpoint wrote them, for
         * collections whose written part outgrows memory. Durability is the same either way (see docs/format.md,
         * "Redo log"). {@link Durability#NONE} always maps them shared.
         */
        public Builder privateSlotPages(boolean privateSlotPages) {
            this.privateSlotPages = privateSlotPages;
            return this;
        }

        /**
         * The config.
         *
         * @throws IllegalArgumentException naming the setting, its allowed range and the value given
         */
        public FixedConfig build() {
            return new FixedConfig(this);
        }
    }
}
