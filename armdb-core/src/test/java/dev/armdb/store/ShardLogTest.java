package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.KeyHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiPredicate;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Tries to break the redo log's rules (docs/format.md, "Redo log") one at a time on the simulated disk: replay
 * restores what the slot file lost; a torn record ends the log; records of an older generation are never replayed;
 * a checkpoint's old generation stays until the slot file is forced; a crash during replay changes nothing; a log
 * left by a logging mode is replayed by an open in NONE.
 *
 * <p>Mutation check (done when written; each failed as named): skipping the replay at open fails four of these
 * tests and both crash enumerations; replaying past a record with a bad CRC fails {@link #aTornRecordEndsTheLog};
 * dropping the generation check of records fails {@link #recordsOfAnOlderGenerationAreNeverReplayed} and the
 * replica crash enumeration; letting a checkpoint switch again before the slot file was forced fails {@link
 * #aSecondSwitchWaitsForTheSlotForceOfTheFirst} and both crash enumerations; starting the empty log before the
 * open's slot-file force fails {@link #aCrashDuringReplayChangesNothing}, as did appending an open's own rewrites
 * to a log not started yet (they overwrote its newest header). Not caught by any test: replaying the active
 * generation although the previous one ends short (the engine's release-after-force order means such a hole only
 * holds unforced records no later record depends on; the rule is kept as a second line).
 */
class ShardLogTest {
    private static final int KEY = 8;
    private static final int VALUE = 24;
    private static final Path DIR = Path.of("sim");

    private static FixedConfig config(Durability d) {
        return config(d, 1024);
    }

    private static FixedConfig config(Durability d, long checkpointBytes) {
        return FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(1)
                .durability(d)
                .growthStepBytes(4096)
                .changeFeedCapacity(16)
                .logCheckpointBytes(checkpointBytes)
                .build();
    }

    private static byte[] key(int k) {
        byte[] b = new byte[KEY];
        b[0] = (byte) (k + 1);
        b[1] = (byte) (k >> 8);
        return b;
    }

    private static void put(Shard s, int k, long id) {
        s.put(key(k), KeyHash.hash(key(k)), CrashStateEnumerationTest.value(id));
    }

    private static long get(Shard s, int k) {
        byte[] out = new byte[VALUE];
        return s.get(key(k), KeyHash.hash(key(k)), out) ? CrashStateEnumerationTest.idOf(out) : 0;
    }

    private static Shard open(SimulatedDisk disk, FixedConfig cfg, DbMeta meta, boolean replica) {
        return Shard.open(DIR, meta, cfg, 0, null, replica, disk.opener(), new FailStop());
    }

    private static long[] read(Shard s, int keys) {
        long[] ids = new long[keys];
        for (int k = 0; k < keys; k++) {
            ids[k] = get(s, k);
        }
        return ids;
    }

    @Test
    void replayRestoresWritesTheSlotFileLost() {
        FixedConfig cfg = config(Durability.GROUP);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard s = open(disk, cfg, meta, false);
        for (int k = 0; k < 20; k++) {
            put(s, k, k + 1);
        }
        put(s, 3, 100);
        s.delete(key(4), KeyHash.hash(key(4)));
        s.forceIfDirty();
        s.abandon();
        // only the log was forced: the slot file on disk holds none of these writes
        Shard again = open(disk.powerLossKeepingNothing(), cfg, meta, false);
        for (int k = 0; k < 20; k++) {
            long expected = k == 3 ? 100 : k == 4 ? 0 : k + 1;
            assertThat(get(again, k)).as("key %d after a power loss", k).isEqualTo(expected);
        }
        again.abandon();
    }

    /**
     * A force writes the buffered records outside the monitor that writers append under: a writer appends while the
     * force's write is stuck (it used to wait for it, milliseconds under load), its record goes after the range the
     * force reserved, and the next force writes it there. Fails if the force writes under the monitor (the append
     * stays blocked) or reserves no range (the records overlap or leave a gap). The first force here finds no room made
     * ahead yet and extends the file under the monitor, as a writer whose buffer is full does.
     */
    @Test
    void aWriterAppendsWhileAForceWritesTheBufferOut() throws Exception {
        FixedConfig cfg = config(Durability.GROUP, 1 << 20);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        AtomicBoolean blockNextWrite = new AtomicBoolean();
        CountDownLatch inWrite = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ShardStorage[] files =
                logFilesBlockingOnce(disk, (f, at) -> blockNextWrite.compareAndSet(true, false), inWrite, release);
        byte[] image = new byte[meta.slotSize()];
        ShardLog log = new ShardLog(files, staging(disk), meta, 0, 1 << 20, new FailStop());
        try {
            log.reset(0, 1);
            log.append(7, 1, image, 0);
            // the first force also extends the file (zeros, under the monitor, a step ahead); the second only writes
            log.force();
            log.append(8, 2, image, 0);
            blockNextWrite.set(true);
            Thread forcer = Thread.ofPlatform().start(log::force);
            assertThat(inWrite.await(10, TimeUnit.SECONDS))
                    .as("the force reached its write")
                    .isTrue();
            CountDownLatch appended = new CountDownLatch(1);
            Thread writer = Thread.ofPlatform().start(() -> {
                log.append(9, 3, image, 0);
                appended.countDown();
            });
            boolean appendedDuringWrite = appended.await(2, TimeUnit.SECONDS);
            release.countDown();
            forcer.join(10_000);
            writer.join(10_000);
            assertThat(appendedDuringWrite)
                    .as("an append while the force's write is stuck")
                    .isTrue();
            log.force();
        } finally {
            release.countDown();
            log.close();
        }
        List<ByteBuffer> headers = recordHeaders(disk, meta, 3);
        for (int i = 0; i < 3; i++) {
            assertThat(headers.get(i).getLong(ShardLogLayout.RECORD_LSN_OFFSET))
                    .as("LSN of record %d", i)
                    .isEqualTo(i + 1);
            assertThat(headers.get(i).getInt(ShardLogLayout.RECORD_SLOT_OFFSET))
                    .as("slot of record %d", i)
                    .isEqualTo(7 + i);
        }
    }

    /**
     * A force extends the log file (zeros a step ahead of the records, about once per MiB of records) outside the
     * monitor that writers append under: a writer appends while an extension's write is stuck, and every record
     * appended around it is read back in order. Fails if extensions are written under the monitor (the append stays
     * blocked: through {@code serve} at 50k writes/s each extension took 0.1-3 ms, and the leader's event loop
     * waited as long), or if a force takes records into room the file does not have yet.
     */
    @Test
    void aWriterAppendsWhileAForceExtendsTheFile() throws Exception {
        // a small checkpoint size: extension steps of one page, within the simulated disk's files
        FixedConfig cfg = config(Durability.GROUP, 16 << 10);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        AtomicBoolean blockExtension = new AtomicBoolean();
        CountDownLatch inExtension = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // an extension writes at the file's end; records overwrite zeros within it
        ShardStorage[] files = logFilesBlockingOnce(
                disk, (f, at) -> at >= sizeOf(f) && blockExtension.compareAndSet(true, false), inExtension, release);
        byte[] image = new byte[meta.slotSize()];
        ShardLog log = new ShardLog(files, staging(disk), meta, 0, 16 << 10, new FailStop());
        int lsn = 0;
        try {
            log.reset(0, 1);
            log.append(0, ++lsn, image, 0);
            log.force();
            blockExtension.set(true);
            Thread forcer = null;
            for (int round = 0; round < 100 && inExtension.getCount() > 0; round++) {
                for (int i = 0; i < 4; i++) {
                    log.append(lsn, ++lsn, image, 0);
                }
                forcer = Thread.ofPlatform().start(log::force);
                while (forcer.isAlive() && inExtension.getCount() > 0) {
                    forcer.join(1);
                }
            }
            assertThat(inExtension.getCount())
                    .as("a force reached an extension")
                    .isZero();
            CountDownLatch appended = new CountDownLatch(1);
            int last = ++lsn;
            Thread writer = Thread.ofPlatform().start(() -> {
                log.append(last - 1, last, image, 0);
                appended.countDown();
            });
            boolean appendedDuringExtension = appended.await(2, TimeUnit.SECONDS);
            release.countDown();
            forcer.join(10_000);
            writer.join(10_000);
            assertThat(appendedDuringExtension)
                    .as("an append while the force's extension is stuck")
                    .isTrue();
            log.force();
        } finally {
            release.countDown();
            log.close();
        }
        List<ByteBuffer> headers = recordHeaders(disk, meta, lsn);
        for (int i = 0; i < lsn; i++) {
            assertThat(headers.get(i).getLong(ShardLogLayout.RECORD_LSN_OFFSET))
                    .as("LSN of record %d", i)
                    .isEqualTo(i + 1);
        }
    }

    /**
     * Shard 0's two log files on {@code disk}; the first write for which {@code blockIf} holds counts {@code
     * entered} down and waits for {@code release}.
     */
    private static ShardStorage[] logFilesBlockingOnce(
            SimulatedDisk disk, BiPredicate<ShardStorage, Long> blockIf, CountDownLatch entered, CountDownLatch release)
            throws IOException {
        ShardStorage[] files = new ShardStorage[2];
        for (int i = 0; i < 2; i++) {
            files[i] = HookedStorage.onWrite(
                    disk.opener().open(DIR.resolve(ShardLogLayout.fileName(0, i)), false), (f, at, length) -> {
                        if (blockIf.test(f, at)) {
                            entered.countDown();
                            awaitUninterruptibly(release);
                        }
                        return () -> {};
                    });
        }
        return files;
    }

    /** Shard 0's staging file on {@code disk}. */
    private static ShardStorage staging(SimulatedDisk disk) throws IOException {
        return disk.opener().open(DIR.resolve(ShardLogLayout.stagingFileName(0)), false);
    }

    /** The headers of the first {@code count} records of shard 0's first log file on {@code disk}. */
    private static List<ByteBuffer> recordHeaders(SimulatedDisk disk, DbMeta meta, int count) throws IOException {
        int record = ShardLogLayout.recordSize(meta.slotSize());
        List<ByteBuffer> headers = new ArrayList<>();
        try (ShardStorage file = disk.opener().open(DIR.resolve(ShardLogLayout.fileName(0, 0)), true)) {
            for (int i = 0; i < count; i++) {
                ByteBuffer header =
                        ByteBuffer.allocate(ShardLogLayout.RECORD_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                file.read(header, ShardLogLayout.RECORDS_OFFSET + (long) i * record);
                headers.add(header);
            }
        }
        return headers;
    }

    private static long sizeOf(ShardStorage f) {
        try {
            return f.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A log file is extended with zeros a step ahead of its records, so that the records written next, and the forces
     * after them, do not change the file's size (a force that must make a new size durable also commits the file
     * system's journal); replay stops at the zeros. Fails if the file does not hold, in whole pages, the room of each
     * record before the record is written (records appended past the end instead).
     */
    @Test
    void aLogFileIsExtendedAheadOfItsRecords() {
        FixedConfig cfg = config(Durability.SYNC, 64 << 10);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard s = open(disk, cfg, meta, false);
        Path log = DIR.resolve(ShardLogLayout.fileName(0, 1));
        int record = ShardLogLayout.recordSize(meta.slotSize());
        put(s, 0, 1);
        int count = 200;
        for (int k = 1; k < count; k++) {
            long before = disk.sizeOf(log);
            assertThat(before)
                    .as("the log before record %d of %d bytes", k + 1, record)
                    .isGreaterThanOrEqualTo(ShardLogLayout.RECORDS_OFFSET + (k + 1L) * record)
                    .isEqualTo(before / 4096 * 4096);
            put(s, k, k + 1);
        }
        s.abandon();
        Shard again = open(disk.powerLossKeepingNothing(), cfg, meta, false);
        for (int k = 0; k < count; k++) {
            assertThat(get(again, k)).as("key %d after a power loss", k).isEqualTo(k + 1);
        }
        again.abandon();
    }

    @Test
    void aTornRecordEndsTheLog() {
        FixedConfig cfg = config(Durability.GROUP);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard s = open(disk, cfg, meta, false);
        int record = ShardLogLayout.recordSize(meta.slotSize());
        for (int k = 0; k < 28; k++) {
            put(s, k, k + 1);
        }
        s.abandon();
        // the buffer reached the file three times, unforced: records 0..20 fill sectors 1 to 3 of the log
        Path log = DIR.resolve(ShardLogLayout.fileName(0, 1));
        assertThat(disk.sizeOf(log)).isGreaterThanOrEqualTo(ShardLogLayout.RECORDS_OFFSET + 21L * record);
        // sector 2 (bytes 1024..1535) is lost: a record torn across sectors 1 and 2, then whole records again
        Shard again = open(disk.powerLoss((p, sector) -> p.equals(log) && sector != 2), cfg, meta, false);
        int whole = (2 * SimulatedDisk.SECTOR - ShardLogLayout.RECORDS_OFFSET) / record;
        for (int k = 0; k < 28; k++) {
            assertThat(get(again, k))
                    .as("key %d: only the records before the torn one are replayed", k)
                    .isEqualTo(k < whole ? k + 1 : 0);
        }
        again.abandon();
    }

    @Test
    void recordsOfAnOlderGenerationAreNeverReplayed() {
        FixedConfig cfg = config(Durability.GROUP);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard replica = open(disk, cfg, meta, true);
        long lsn = 1;
        for (int round = 0; round < 3; round++) {
            for (int slot = 0; slot < 10; slot++) {
                replica.applyImage(slot, image(meta, lsn++, slot), 0);
            }
            replica.forceApplied();
            replica.checkpoint();
        }
        for (int slot = 0; slot < 10; slot++) {
            replica.applyImage(slot, image(meta, lsn++, slot), 0);
        }
        replica.forceApplied();
        // a full resync empties the shard: both log files still hold records, of older generations
        replica.wipe();
        replica.abandon();
        Shard again = open(disk.powerLossKeepingNothing(), cfg, meta, true);
        byte[] out = new byte[meta.slotSize()];
        for (int slot = 0; slot < 10; slot++) {
            assertThat(again.readSlotImage(slot, out, 0))
                    .as("slot %d after a wipe and a power loss", slot)
                    .isZero();
        }
        again.abandon();
    }

    @Test
    void aSecondSwitchWaitsForTheSlotForceOfTheFirst() {
        FixedConfig cfg = config(Durability.GROUP);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard s = open(disk, cfg, meta, false);
        put(s, 0, 1);
        s.forceIfDirty();
        assertThat(s.beginCheckpoint()).isTrue();
        put(s, 1, 2);
        s.forceIfDirty();
        assertThat(s.beginCheckpoint())
                .as("a switch while the previous generation is still needed")
                .isFalse();
        put(s, 2, 3);
        s.forceIfDirty();
        s.abandon();
        Shard again = open(disk.powerLossKeepingNothing(), cfg, meta, false);
        assertThat(read(again, 3)).containsExactly(1, 2, 3);
        again.abandon();
    }

    @Test
    void aCrashDuringReplayChangesNothing() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("ShardLogTest: seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        Random rnd = new Random(seed);
        FixedConfig cfg = config(Durability.GROUP);
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard s = open(disk, cfg, meta, false);
        for (int op = 0; op < 40; op++) {
            int k = rnd.nextInt(4);
            if (rnd.nextInt(4) == 0) {
                s.delete(key(k), KeyHash.hash(key(k)));
            } else {
                put(s, k, op + 1);
            }
            if (op == 25) {
                s.checkpoint();
            }
        }
        s.forceIfDirty();
        s.abandon();
        SimulatedDisk lost = disk.powerLossKeepingNothing();
        Shard reference = open(lost.processCrash(), cfg, meta, false);
        long[] expected = read(reference, 4);
        reference.abandon();

        SimulatedDisk replaying = lost.processCrash();
        List<String> failures = new ArrayList<>();
        int[] boundaries = {0};
        replaying.onBoundary(what -> {
            boundaries[0]++;
            SimulatedDisk[] states = {replaying.processCrash(), null};
            int n = replaying.unforcedSectors();
            for (BitSet keep : CrashStateEnumerationTest.subsets(n, new Random(seed ^ boundaries[0]))) {
                states[1] = replaying.powerLoss(keep);
                for (SimulatedDisk d : states) {
                    Shard r = open(d, cfg, meta, false);
                    long[] got = read(r, 4);
                    r.abandon();
                    if (!java.util.Arrays.equals(got, expected)) {
                        failures.add("boundary " + boundaries[0] + " (" + what + "), sectors kept " + keep + " of "
                                + replaying.describeUnforced() + ": " + java.util.Arrays.toString(got));
                    }
                }
            }
        });
        Shard r = open(replaying, cfg, meta, false);
        replaying.onBoundary(what -> {});
        assertThat(read(r, 4)).containsExactly(expected);
        r.abandon();
        assertThat(boundaries[0]).as("boundaries of the replaying open").isPositive();
        assertThat(failures)
                .as("seed %d, expected %s", seed, java.util.Arrays.toString(expected))
                .isEmpty();
    }

    @Test
    void anOpenInNoneReplaysTheLogOfAnotherMode() {
        FixedConfig group = config(Durability.GROUP);
        FixedConfig none = config(Durability.NONE);
        DbMeta meta = DbMeta.create(group);
        SimulatedDisk disk = new SimulatedDisk();
        Shard s = open(disk, group, meta, false);
        for (int k = 0; k < 10; k++) {
            put(s, k, k + 1);
        }
        s.forceIfDirty();
        s.abandon();
        SimulatedDisk lost = disk.powerLossKeepingNothing();
        Shard inNone = open(lost, none, meta, false);
        for (int k = 0; k < 10; k++) {
            assertThat(get(inNone, k)).isEqualTo(k + 1);
        }
        inNone.abandon();
        // the open forced what it replayed and emptied the log, so it is not replayed again over later writes
        Shard groupAgain = open(lost.powerLossKeepingNothing(), group, meta, false);
        assertThat(read(groupAgain, 10)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        groupAgain.abandon();
    }

    private static byte[] image(DbMeta meta, long lsn, int keyByte) {
        int slotSize = meta.slotSize();
        ByteBuffer b = ByteBuffer.allocate(slotSize).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(SlotLayout.STATE_OFFSET, SlotLayout.stateWord(SlotLayout.LIVE, 2));
        b.putLong(SlotLayout.LSN_OFFSET, lsn);
        b.put(SlotLayout.KEY_OFFSET, (byte) (keyByte + 1));
        b.put(SlotLayout.valueOffset(KEY), (byte) lsn);
        byte[] image = b.array();
        CRC32C crc = new CRC32C();
        crc.update(image, 0, SlotLayout.CRC_OFFSET);
        crc.update(image, SlotLayout.LSN_OFFSET, slotSize - SlotLayout.LSN_OFFSET);
        b.putInt(SlotLayout.CRC_OFFSET, (int) crc.getValue());
        return image;
    }
}
