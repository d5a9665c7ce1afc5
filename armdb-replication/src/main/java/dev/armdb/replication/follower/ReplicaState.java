package dev.armdb.replication.follower;

import static dev.armdb.replication.follower.ReplicaStateLayout.*;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The follower's persistent record, per shard, of the leader database it follows and the LSN it has fully
 * applied (see {@link ReplicaStateLayout}). A follower never records an LSN it has not applied (and forced, per
 * its durability) in full.
 *
 * <p>Threading: each shard's entry is written by that shard's session thread only; any thread may read. A background
 * thread runs the forces {@link #recordApplied} asks for.
 */
public final class ReplicaState implements ReplicaPositions, AutoCloseable {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final FileChannel channel;
    private final MemorySegment map;
    private final int shards;
    private final GroupForce groupForce;

    private ReplicaState(Arena arena, FileChannel channel, MemorySegment map, int shards) {
        this.arena = arena;
        this.channel = channel;
        this.map = map;
        this.shards = shards;
        this.groupForce = new GroupForce(map::force, "armdb-replica-state-force");
    }

    /**
     * Opens (or creates) {@code dir/replica.state} for {@code shards} shards.
     *
     * @throws ArmDbCorruptException if the file exists but is not a replica state of that many shards
     */
    public static ReplicaState open(Path dir, int shards) {
        Path file = dir.resolve(FILE_NAME);
        try {
            boolean exists = Files.exists(file);
            FileChannel ch = dev.armdb.store.PrivateFiles.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            long size = fileSize(shards);
            if (exists && ch.size() != size) {
                ch.close();
                throw new ArmDbCorruptException(file + " is not a replica state for " + shards + " shards: expected "
                        + size + " bytes, found " + Files.size(file));
            }
            if (!exists) {
                ch.write(java.nio.ByteBuffer.allocate((int) size), 0);
            }
            Arena arena = Arena.ofShared();
            MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            ReplicaState state = new ReplicaState(arena, ch, m, shards);
            if (!exists) {
                MemorySegment.copy(MemorySegment.ofArray(MAGIC), 0, m, 0, MAGIC.length);
                m.set(INT, VERSION_OFFSET, FORMAT_VERSION);
                m.set(INT, SHARD_COUNT_OFFSET, shards);
                m.force();
                ch.force(true);
            } else {
                state.check(file);
                // a dead process may have left records in the page cache that no force covered (they are recorded
                // before their background force completes): nothing read here counts as durable before this
                m.force();
            }
            return state;
        } catch (IOException e) {
            throw new ArmDbException("cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    private void check(Path file) {
        byte[] magic = map.asSlice(0, MAGIC.length).toArray(ValueLayout.JAVA_BYTE);
        if (!java.util.Arrays.equals(magic, MAGIC)
                || map.get(INT, VERSION_OFFSET) != FORMAT_VERSION
                || map.get(INT, SHARD_COUNT_OFFSET) != shards) {
            close();
            throw new ArmDbCorruptException(file + " is not a replica state of version " + FORMAT_VERSION + " for "
                    + shards + " shards (found version " + map.get(INT, VERSION_OFFSET) + ", shards "
                    + map.get(INT, SHARD_COUNT_OFFSET) + ")");
        }
    }

    /** The LSN shard {@code s} has fully applied. */
    public long appliedLsn(int s) {
        return map.get(LONG, entryOffset(s) + APPLIED_LSN_OFFSET);
    }

    /** The leader database id shard {@code s} follows (16 bytes, zero = none). */
    public byte[] leaderDatabaseId(int s) {
        return map.asSlice(entryOffset(s) + DATABASE_ID_OFFSET, 16).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * Records shard {@code s}'s applied LSN; {@code force} makes it durable before the call returns (sharing one
     * force of the page with the shards that record at the same time).
     */
    public void appliedLsn(int s, long lsn, boolean force) {
        map.set(LONG, entryOffset(s) + APPLIED_LSN_OFFSET, lsn);
        if (force) {
            groupForce.forceCovering();
        }
    }

    /**
     * Records shard {@code s}'s applied LSN and asks the background thread to force it; returns the ticket for {@link
     * #recordForced}. Never blocks on the disk.
     */
    @Override
    public long recordApplied(int s, long lsn) {
        map.set(LONG, entryOffset(s) + APPLIED_LSN_OFFSET, lsn);
        return groupForce.request();
    }

    /** True once the force a {@link #recordApplied} ticket names has completed. */
    @Override
    public boolean recordForced(long ticket) {
        return groupForce.done(ticket);
    }

    /** Makes every record stored so far durable before it returns. */
    @Override
    public void forceRecords() {
        groupForce.forceCovering();
    }

    /** Number of forces of the record since it was opened (records that shared a force count once). */
    long forces() {
        return groupForce.forces();
    }

    /** The leader epoch shard {@code s}'s applied LSN was synced under (0 = unknown). */
    public long leaderEpoch(int s) {
        return map.get(LONG, entryOffset(s) + LEADER_EPOCH_OFFSET);
    }

    /** Records the leader epoch shard {@code s} syncs under from now on, durably. */
    public void leaderEpoch(int s, long epoch) {
        if (leaderEpoch(s) != epoch) {
            map.set(LONG, entryOffset(s) + LEADER_EPOCH_OFFSET, epoch);
            groupForce.forceCovering();
        }
    }

    /** Records the leader database shard {@code s} follows, with applied LSN 0, durably. */
    public void resetTo(int s, byte[] databaseId) {
        map.set(LONG, entryOffset(s) + APPLIED_LSN_OFFSET, 0L);
        MemorySegment.copy(MemorySegment.ofArray(databaseId), 0, map, entryOffset(s) + DATABASE_ID_OFFSET, 16);
        groupForce.forceCovering();
    }

    @Override
    public void close() {
        groupForce.close();
        try {
            arena.close();
        } catch (IllegalStateException ignored) {
            // already closed
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
