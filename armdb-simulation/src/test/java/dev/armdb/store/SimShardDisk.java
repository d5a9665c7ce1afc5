package dev.armdb.store;

import dev.armdb.FixedConfig;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Random;

/**
 * One node's disk in the replication simulation: the engine's simulated page cache ({@link SimulatedDisk}) holding
 * one shard file, opened as a leader's or a replica's shard, and the disk a process crash or a power loss leaves.
 *
 * <p>Threading: one simulation thread.
 */
public final class SimShardDisk {
    private static final Path DIR = Path.of("sim");
    private final SimulatedDisk disk;

    /** An empty disk. */
    public SimShardDisk() {
        this(new SimulatedDisk());
    }

    private SimShardDisk(SimulatedDisk disk) {
        this.disk = disk;
    }

    /** Opens (recovering, as an open after a crash does) shard 0 of {@code meta} on this disk. */
    public Shard open(DbMeta meta, FixedConfig cfg, boolean replica) {
        return Shard.open(DIR, meta, cfg, 0, null, replica, disk.opener(), new FailStop());
    }

    /** Drops {@code shard} as a dead process would: nothing flushed, nothing closed cleanly. */
    public static void abandon(Shard shard) {
        shard.abandon();
    }

    /** What a leader's group-commit tick does: forces what is dirty and settles pending releases. */
    public static void groupForce(Shard shard) {
        shard.forceIfDirty();
    }

    /** What a collection's checkpointer does: checkpoints once the shard's redo log passed its checkpoint size. */
    public static void checkpointIfDue(Shard shard) {
        if (shard.checkpointDue(0, Long.MAX_VALUE)) {
            shard.checkpoint();
        }
    }

    /** Key {@code k} of the engine's crash enumeration (8 bytes). */
    public static byte[] key(int k) {
        return CrashStateEnumerationTest.key(k);
    }

    /** The crash enumeration's value {@code id} (24 bytes naming its id in every 8, so a torn one cannot pass). */
    public static byte[] value(long id) {
        return CrashStateEnumerationTest.value(id);
    }

    /** The id of a value made by {@link #value}, or -1 if it is not one. */
    public static long idOf(byte[] v) {
        return CrashStateEnumerationTest.idOf(v);
    }

    /** The disk a new process finds after this one died: the page cache is kept. */
    public SimShardDisk processCrash() {
        return new SimShardDisk(disk.processCrash());
    }

    /** The disk after a power loss: each sector written since its last force keeps its old or new bytes. */
    public SimShardDisk powerLoss(Random rnd) {
        int n = disk.unforcedSectors();
        BitSet keep = new BitSet(n);
        for (int i = 0; i < n; i++) {
            if (rnd.nextBoolean()) {
                keep.set(i);
            }
        }
        return new SimShardDisk(disk.powerLoss(keep));
    }
}
