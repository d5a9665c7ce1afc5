package dev.armdb.store;

import dev.armdb.ArmDbClosedException;
import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.ArmDbReadOnlyException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.ShardRouting;
import dev.armdb.changes.ShardView;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open collection: its directory lock, {@code db.meta}, shards, and the background maintenance thread (group
 * forces, file growth ahead of writers). The engine object behind {@code FixedMap} and {@code FixedTree}, and
 * what replication builds on; it knows nothing of the network.
 *
 * <p>Thread-safe: any number of threads may read and write; each shard serialises its own writers.
 */
public final class Store implements AutoCloseable {
    /** Name of the lock file in the collection directory. */
    public static final String LOCK_FILE = "db.lock";
    /** System property naming a file that holds the system's boot id, instead of the kernel's (tests, other OSes). */
    public static final String BOOT_ID_PROPERTY = "armdb.bootIdFile";

    /** Written by a clean close (after the last force), removed by the next open; empty. */
    public static final String CLEAN_MARK = "clean.mark";
    /** Present while the collection is a replica (see {@link #replica(boolean)}); empty. */
    public static final String REPLICA_MARK = "replica.mark";

    private static final Logger LOG = LoggerFactory.getLogger(Store.class);

    /**
     * Directories claimed by this JVM. OS file locks belong to the whole process and closing any channel on the
     * lock file drops them, so a second open in the same JVM must be refused before it touches the lock file.
     */
    private static final java.util.Set<Path> CLAIMED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A shard whose log holds records checkpoints after this long even if the log is small. */
    private static final long CHECKPOINT_MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** How often the checkpointer looks at the shards when nobody wakes it. */
    private static final long CHECKPOINT_POLL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path dir;
    private final DbMeta meta;
    private final FixedConfig config;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Shard[] shards;
    private final Thread maintenance;
    /** Runs redo log checkpoints (slot-file forces), apart from the group commit so they never delay it. */
    private final Thread checkpointer;

    private final ShardStorage.Opener storage;
    private final FailStop failStop = new FailStop();
    private final AtomicLong backgroundErrors = new AtomicLong();
    private volatile boolean closed;
    private volatile long epoch;
    private volatile long[] trustedEpochs = new long[0];
    /** Serialises term raises and promotions; {@link #term} is written only under it. */
    private final Object termLock = new Object();
    /** The replication term, as durable in {@value TermStateLayout#FILE_NAME}; written under {@link #termLock}. */
    private volatile long term;

    private volatile boolean replica;

    private Store(
            Path dir,
            DbMeta meta,
            FixedConfig config,
            FileChannel lockChannel,
            FileLock lock,
            ShardStorage.Opener storage) {
        this.dir = dir;
        this.storage = storage;
        this.meta = meta;
        this.config = config;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.shards = new Shard[meta.shardCount()];
        this.maintenance = Thread.ofPlatform()
                .daemon()
                .name("armdb-maintenance-" + dir.getFileName())
                .unstarted(this::maintenanceLoop);
        this.checkpointer = Thread.ofPlatform()
                .daemon()
                .name("armdb-checkpoint-" + dir.getFileName())
                .unstarted(this::checkpointLoop);
    }

    /**
     * Opens the collection in {@code dir}, creating it from {@code config} if it does not exist. With a null
     * config the collection must exist and opens with its stored sizes and default run-time settings.
     *
     * @throws dev.armdb.ArmDbConfigMismatchException if {@code config} disagrees with {@code db.meta}
     * @throws ArmDbCorruptException if {@code db.meta} or a shard header is damaged
     * @throws ArmDbException if the directory is open elsewhere or cannot be read
     */
    public static Store open(Path dir, FixedConfig config) {
        return open(dir, config, MappedShardStorage.OPENER);
    }

    /** As {@link #open(Path, FixedConfig)}, with shard files opened by {@code storage} (tests simulate them). */
    static Store open(Path dir, FixedConfig config, ShardStorage.Opener storage) {
        Path abs = dir.toAbsolutePath().normalize();
        FileChannel lockChannel = null;
        Path claimed = null;
        Store opened = null;
        try {
            if (config == null && !Files.exists(abs.resolve(DbMetaLayout.FILE_NAME))) {
                throw new ArmDbException("no collection at " + abs + ": " + DbMetaLayout.FILE_NAME
                        + " is missing (pass a FixedConfig to create one)");
            }
            PrivateFiles.createDirectories(abs);
            claim(abs);
            claimed = abs;
            lockChannel =
                    PrivateFiles.open(abs.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = tryLock(lockChannel, abs);
            DbMeta meta = readOrCreateMeta(abs, config);
            FixedConfig effective = config != null ? config : meta.toConfig().build();
            Store store = new Store(abs, meta, effective, lockChannel, lock, storage);
            store.replica = Files.exists(abs.resolve(REPLICA_MARK));
            boolean clean = Files.exists(abs.resolve(CLEAN_MARK));
            opened = store;
            store.loadTerm();
            store.openShards();
            store.recopyDamagedReplicaShards();
            store.dropIncompleteCopies();
            store.startEpoch(clean);
            store.maintenance.start();
            store.checkpointer.start();
            return store;
        } catch (IOException e) {
            abandonShards(opened);
            closeQuietly(lockChannel);
            unclaim(claimed);
            throw new ArmDbException("cannot open collection at " + abs + ": " + e, e);
        } catch (RuntimeException e) {
            abandonShards(opened);
            closeQuietly(lockChannel);
            unclaim(claimed);
            throw e;
        }
    }

    /** Unmaps the shards an open that failed after opening them left open (null: none). */
    private static void abandonShards(Store store) {
        if (store != null) {
            for (Shard s : store.shards) {
                if (s != null && !s.isClosed()) {
                    s.abandon();
                }
            }
        }
    }

    /**
     * Claims {@code dir} for this JVM (the collection, or the verifier).
     *
     * @throws ArmDbException if it is already claimed in this JVM
     */
    public static void claim(Path dir) {
        if (!CLAIMED.add(canonical(dir))) {
            throw new ArmDbException("collection at " + dir + " is already open in this JVM; close it first");
        }
    }

    /** Releases a claim made with {@link #claim}; null is ignored. */
    public static void unclaim(Path dir) {
        if (dir != null) {
            CLAIMED.remove(canonical(dir));
        }
    }

    private static Path canonical(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir.toAbsolutePath().normalize();
        }
    }

    private static FileLock tryLock(FileChannel ch, Path dir) throws IOException {
        try {
            FileLock l = ch.tryLock();
            if (l == null) {
                throw new ArmDbException(
                        "collection at " + dir + " is already open in another process (" + LOCK_FILE + " is locked)");
            }
            return l;
        } catch (OverlappingFileLockException e) {
            throw new ArmDbException("collection at " + dir + " is already open in this JVM; close it first", e);
        }
    }

    private static DbMeta readOrCreateMeta(Path dir, FixedConfig config) throws IOException {
        if (Files.exists(dir.resolve(DbMetaLayout.FILE_NAME))) {
            DbMeta meta = DbMeta.read(dir);
            if (config != null) {
                meta.checkMatches(config, dir);
            }
            return meta;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> strays = files.filter(p -> p.getFileName().toString().endsWith(".slots"))
                    .toList();
            if (!strays.isEmpty()) {
                throw new ArmDbCorruptException("collection at " + dir + " has shard files but no "
                        + DbMetaLayout.FILE_NAME + " (found "
                        + strays.getFirst().getFileName() + "); refusing to"
                        + " create a new collection over them");
            }
        }
        DbMeta meta = DbMeta.create(config);
        meta.write(dir);
        LOG.info("created collection {} at {}", meta.databaseIdHex(), dir);
        return meta;
    }

    private void openShards() {
        int threads = Math.max(1, Math.min(shards.length, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(
                threads, Thread.ofPlatform().daemon().name("armdb-recovery-", 0).factory());
        try {
            List<Future<Shard>> futures = new ArrayList<>();
            for (int i = 0; i < shards.length; i++) {
                int id = i;
                futures.add(pool.submit(
                        () -> Shard.open(dir, meta, config, id, this::wakeMaintenance, replica, storage, failStop)));
            }
            RuntimeException failure = null;
            for (int i = 0; i < futures.size(); i++) {
                try {
                    shards[i] = futures.get(i).get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    RuntimeException r = c instanceof RuntimeException re
                            ? re
                            : new ArmDbException("cannot open shard " + i + " of " + dir + ": " + c, c);
                    if (failure == null) {
                        failure = r;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = new ArmDbException("interrupted while opening " + dir, e);
                }
            }
            if (failure != null) {
                for (Shard s : shards) {
                    if (s != null) {
                        s.abandon();
                    }
                }
                throw failure;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void wakeMaintenance() {
        LockSupport.unpark(maintenance);
    }

    private void maintenanceLoop() {
        long intervalNanos = config.durability() == Durability.GROUP
                ? config.groupInterval().toNanos()
                : TimeUnit.MILLISECONDS.toNanos(100);
        boolean running = true;
        while (running && !closed) {
            LockSupport.parkNanos(intervalNanos);
            running = eachShard("maintenance", s -> {
                s.growIfNeeded();
                if (config.durability() == Durability.GROUP) {
                    s.forceIfDirty();
                }
                if (s.checkpointDue(System.nanoTime(), CHECKPOINT_MAX_AGE_NANOS)) {
                    LockSupport.unpark(checkpointer);
                }
            });
        }
    }

    private void checkpointLoop() {
        boolean running = true;
        while (running && !closed) {
            LockSupport.parkNanos(CHECKPOINT_POLL_NANOS);
            running = eachShard("checkpoint", s -> {
                if (s.checkpointDue(System.nanoTime(), CHECKPOINT_MAX_AGE_NANOS)) {
                    s.checkpoint();
                }
            });
        }
    }

    /**
     * One background pass of {@code task} over the shards: a shard's failure is counted and logged and the pass goes
     * on; a fail-stopped collection ends the pass (the failure was reported once; forces and growth would only repeat
     * it).
     *
     * @return false once the collection is closed (the thread should end)
     */
    private boolean eachShard(String what, java.util.function.Consumer<Shard> task) {
        for (Shard s : shards) {
            if (closed) {
                return false;
            }
            if (failStop.hasFailed()) {
                return true;
            }
            try {
                task.accept(s);
            } catch (ArmDbClosedException e) {
                return false;
            } catch (RuntimeException e) {
                backgroundErrors.incrementAndGet();
                LOG.error("shard {} of {}: background {} failed", s.shardId(), dir, what, e);
            }
        }
        return true;
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the original error matters more
            }
        }
    }

    // ---------------------------------------------------------------- routing and checks

    /** The shard that holds {@code key}, whose {@code KeyHash} is {@code hash}. */
    public int shardOf(byte[] key, long hash) {
        int n = shards.length;
        if (meta.routing() == ShardRouting.KEY_PREFIX) {
            long prefix = 0;
            for (int i = 0; i < 4; i++) {
                prefix = (prefix << 8) | (i < key.length ? key[i] & 0xFF : 0);
            }
            return (int) ((prefix * n) >>> 32);
        }
        return (int) ((((hash >>> 16) & 0xFFFF_FFFFL) * n) >>> 32);
    }

    /**
     * Checks a key's length.
     *
     * @throws IllegalArgumentException naming the expected and given sizes
     */
    public void checkKey(byte[] key) {
        if (key == null) {
            throw new IllegalArgumentException("key must be " + meta.keySize() + " bytes, got null");
        }
        if (key.length != meta.keySize()) {
            throw new IllegalArgumentException("key must be exactly " + meta.keySize() + " bytes, got " + key.length);
        }
    }

    /**
     * Checks a value's (or value buffer's) length.
     *
     * @throws IllegalArgumentException naming the expected and given sizes
     */
    public void checkValue(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("value must be " + meta.valueSize() + " bytes, got null");
        }
        if (value.length != meta.valueSize()) {
            throw new IllegalArgumentException(
                    "value must be exactly " + meta.valueSize() + " bytes, got " + value.length);
        }
    }

    /**
     * Throws {@link ArmDbClosedException} if closed.
     *
     * @throws ArmDbClosedException naming the collection
     */
    public void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }

    /** The exception for an operation on this closed collection. */
    public ArmDbClosedException closedException() {
        return new ArmDbClosedException("collection at " + dir + " is closed");
    }

    // ---------------------------------------------------------------- accessors

    /** The collection's directory (absolute). */
    public Path dir() {
        return dir;
    }

    /** The collection's identity. */
    public DbMeta meta() {
        return meta;
    }

    /** The effective config (stored sizes, run-time settings of this open). */
    public FixedConfig config() {
        return config;
    }

    /** Number of shards. */
    public int shardCount() {
        return shards.length;
    }

    /** Shard {@code id}. */
    public Shard shard(int id) {
        return shards[id];
    }

    /**
     * Takes the writer locks of the shards marked in {@code shards}, in ascending order (the one order every
     * multi-shard locker uses, so two transactions never deadlock), for a group of writes no other writer may
     * interleave with. Readers are not blocked. Release with {@link #unlockShardsForTransaction} on the same thread.
     */
    public void lockShardsForTransaction(boolean[] shardsToLock) {
        for (int s = 0; s < shardsToLock.length; s++) {
            if (shardsToLock[s]) {
                shards[s].lockForTransaction();
            }
        }
    }

    /** Releases what {@link #lockShardsForTransaction} took (the same {@code shards}). */
    public void unlockShardsForTransaction(boolean[] shardsToLock) {
        for (int s = shardsToLock.length - 1; s >= 0; s--) {
            if (shardsToLock[s]) {
                shards[s].unlockForTransaction();
            }
        }
    }

    /** What replication sees of shard {@code id}. */
    public ShardView view(int id) {
        return shards[id];
    }

    /** Errors the background thread met (each also logged). */
    public long backgroundErrors() {
        return backgroundErrors.get();
    }

    /**
     * Marks the collection a read-only replica (true) or writable (false). While a replica, user writes fail
     * with {@link ArmDbException}; only the replication applier writes (through {@link Shard#applyImages}).
     * Turning it writable also removes the persistent mark (see {@link #persistReplicaMark()}). Called by
     * replication; not concurrently.
     *
     * @throws ArmDbException if the mark cannot be removed
     */
    public void replica(boolean isReplica) {
        if (!isReplica) {
            Path mark = dir.resolve(REPLICA_MARK);
            try {
                if (Files.deleteIfExists(mark)) {
                    forceDirectory();
                }
            } catch (IOException e) {
                throw new ArmDbException("cannot remove " + mark + ": " + e, e);
            }
        }
        this.replica = isReplica;
        for (Shard s : shards) {
            s.refuseUserWrites(isReplica);
        }
    }

    /**
     * Records on disk that this collection holds a leader's copy ({@value #REPLICA_MARK}), before the first image
     * is applied: it then reopens read-only and recovers with replica rules (keeping the leader's slots and LSNs)
     * until {@link #promote()}. Idempotent; any thread.
     *
     * @throws ArmDbException if the mark cannot be written
     */
    public synchronized void persistReplicaMark() {
        Path mark = dir.resolve(REPLICA_MARK);
        try {
            if (!Files.exists(mark)) {
                PrivateFiles.createFile(mark);
                forceDirectory();
            }
        } catch (IOException e) {
            throw new ArmDbException("cannot create " + mark + ": " + e, e);
        }
    }

    /**
     * Starts this open's epoch: a new random id, appended to the ids of {@value EpochStateLayout#FILE_NAME} after a
     * clean close, or alone after an unclean stop (writes not yet forced may have been lost then, and their LSNs
     * reused since). Random ids, not a counter: a power loss may roll the file back, and an id must never name two
     * different histories. The file is durable, and the clean mark removed durably, before any write of this open.
     */
    private void startEpoch(boolean clean) throws IOException {
        Path file = dir.resolve(EpochStateLayout.FILE_NAME);
        long[] earlier = new long[0];
        BootStateLayout.BootState boot = currentBoot();
        boolean processCrashOnly = !clean && boot != null && boot.sameAs(previousBoot());
        if (processCrashOnly) {
            LOG.info(
                    "{}: unclean stop within this boot of the system (a process crash): the page cache kept every"
                            + " write, so followers keep their positions",
                    dir);
        }
        if ((clean || processCrashOnly) && Files.exists(file)) {
            try {
                earlier = EpochStateLayout.decode(Files.readAllBytes(file));
            } catch (ArmDbCorruptException e) {
                // lose nothing but trust: positions from earlier opens then count as untrusted
                LOG.warn("{}: {}; followers of earlier opens will copy everything again", dir, e.getMessage());
            }
        }
        long id = newEpochId();
        int keep = Math.min(earlier.length, EpochStateLayout.MAX_EPOCHS - 1);
        long[] ids = Arrays.copyOfRange(earlier, earlier.length - keep, earlier.length + 1);
        ids[keep] = id;
        DurableFiles.replace(file, EpochStateLayout.encode(ids));
        if (boot != null) {
            DurableFiles.replace(dir.resolve(BootStateLayout.FILE_NAME), BootStateLayout.encode(boot));
        } else {
            DurableFiles.delete(dir.resolve(BootStateLayout.FILE_NAME));
        }
        DurableFiles.delete(dir.resolve(CLEAN_MARK));
        this.trustedEpochs = ids;
        this.epoch = id;
    }

    /**
     * This boot of the system and this collection's shard files, or null where the kernel names no boot (only
     * Linux does) or files have no inode numbers. The boot id is read from {@value #BOOT_ID_PROPERTY} if set (a
     * file holding the id), else from the kernel's {@code /proc/sys/kernel/random/boot_id}.
     */
    private BootStateLayout.BootState currentBoot() {
        String source = System.getProperty(BOOT_ID_PROPERTY, "/proc/sys/kernel/random/boot_id");
        try {
            String id = Files.readString(Path.of(source)).trim();
            long[] inodes = new long[shards.length];
            for (int i = 0; i < shards.length; i++) {
                Object ino = Files.getAttribute(dir.resolve(ShardFileLayout.fileName(i)), "unix:ino");
                inodes[i] = ((Number) ino).longValue();
            }
            return id.isEmpty() ? null : new BootStateLayout.BootState(id, inodes);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /** What the previous open recorded in {@value BootStateLayout#FILE_NAME}, or null. */
    private BootStateLayout.BootState previousBoot() {
        try {
            Path f = dir.resolve(BootStateLayout.FILE_NAME);
            return Files.exists(f) ? BootStateLayout.decode(Files.readAllBytes(f)) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static long newEpochId() {
        long e;
        do {
            e = new java.security.SecureRandom().nextLong();
        } while (e == 0);
        return e;
    }

    /**
     * This open's epoch: a random id, never 0. Replication sends it to followers, which send it back with their
     * position. Any thread.
     */
    public long epoch() {
        return epoch;
    }

    /**
     * True if a follower position synced under epoch {@code e} is still this collection's history: {@code e} is
     * this open or an earlier one with only clean stops since. Any thread.
     */
    public boolean trustsEpoch(long e) {
        if (e == 0) {
            return false;
        }
        for (long t : trustedEpochs) {
            if (t == e) {
                return true;
            }
        }
        return false;
    }

    private void forceDirectory() throws IOException {
        DurableFiles.forceDirectory(dir);
    }

    /** File name of the mark saying shard {@code shardId} holds an incomplete copy, e.g. {@code shard-007.copying}. */
    public static String copyMarkName(int shardId) {
        return String.format("shard-%03d.copying", shardId);
    }

    /**
     * Records durably, before a copy from a leader touches shard {@code shardId}, that its contents are an
     * incomplete copy until {@link #finishCopy}. While the mark exists the shard is never promoted, and an open
     * empties it (the copy restarts), so no partial copy is ever served after a crash. Called by the shard's
     * replication session only.
     *
     * @throws ArmDbException if the mark cannot be written
     */
    public void beginCopy(int shardId) {
        Path mark = dir.resolve(copyMarkName(shardId));
        try {
            if (!Files.exists(mark)) {
                PrivateFiles.createFile(mark);
                forceDirectory();
            }
        } catch (IOException e) {
            throw new ArmDbException("cannot create " + mark + ": " + e, e);
        }
    }

    /**
     * Ends shard {@code shardId}'s copy: forces the shard and its slot file ({@link Shard#forceCopied}; a bulk
     * load's stores are not in the redo log), then removes its mark durably, so the mark disappears only once
     * everything copied is on disk. Called by the shard's replication session only, which has forced the shard
     * already (this second force finds little to do).
     *
     * @throws ArmDbException if the shard cannot be forced or the mark removed
     */
    public void finishCopy(int shardId) {
        shard(shardId).forceCopied();
        Path mark = dir.resolve(copyMarkName(shardId));
        try {
            DurableFiles.delete(mark);
        } catch (IOException e) {
            throw new ArmDbException("cannot remove " + mark + ": " + e, e);
        }
    }

    /** True while shard {@code shardId} holds an incomplete copy (see {@link #beginCopy}). Any thread. */
    public boolean copyIncomplete(int shardId) {
        return Files.exists(dir.resolve(copyMarkName(shardId)));
    }

    /**
     * Throws if any shard holds an incomplete copy (see {@link #beginCopy}). Any thread.
     *
     * @throws ArmDbException naming the first such shard
     */
    public void checkNoIncompleteCopy() {
        for (int i = 0; i < shards.length; i++) {
            if (copyIncomplete(i)) {
                throw new ArmDbException("shard " + i + " of " + dir + " holds an incomplete copy from its leader ("
                        + copyMarkName(i) + "); a promoted node would lack data. Follow a leader until the copy"
                        + " finishes, then promote");
            }
        }
    }

    /**
     * Marks for a fresh copy every shard of a replica whose recovery found a torn or corrupt slot. A replica writes
     * the leader's images in place, possibly out of LSN order, so a slot torn by a crash may have held a key of the
     * last recorded consistent point; without it the shard matches no leader state, and nothing short of a new copy
     * tells which key is missing.
     */
    private void recopyDamagedReplicaShards() {
        if (!replica) {
            return;
        }
        for (int i = 0; i < shards.length; i++) {
            if (shards[i].damagedAtOpen()) {
                LOG.warn(
                        "{}: replica shard {} recovered torn or corrupt slots (a crash in the middle of an apply);"
                                + " it is copied from its leader again",
                        dir,
                        i);
                beginCopy(i);
            }
        }
    }

    /** Empties every shard whose copy a dead process left incomplete; the marks stay until a copy finishes. */
    private void dropIncompleteCopies() {
        for (int i = 0; i < shards.length; i++) {
            if (copyIncomplete(i)) {
                LOG.warn("{}: shard {} holds an incomplete copy from a leader; emptied, the copy restarts", dir, i);
                shards[i].wipeCutShortCopy();
            }
        }
    }

    /**
     * Turns a replica into a writable collection: every shard rebuilds its allocator from its slots exactly as an
     * open does and continues its LSN sequence after the last applied LSN; then the replica mark is removed.
     * Replication must be stopped first. A no-op on a writable collection.
     *
     * @throws ArmDbException if a shard holds an incomplete copy (promoting it would serve a partial copy); nothing
     *     is changed then
     */
    public void promote() {
        if (!replica) {
            return;
        }
        checkNoIncompleteCopy();
        // durable before the first write as a leader, and above every term this node has seen or led under
        advanceTerm();
        for (Shard s : shards) {
            s.promote();
        }
        replica(false);
    }

    /**
     * Reads the term from {@value TermStateLayout#FILE_NAME}; 0 if there is none. A damaged file is refused: a lower
     * term could let this node follow a leader that was superseded, and the right one is unknown.
     */
    private void loadTerm() throws IOException {
        Path file = dir.resolve(TermStateLayout.FILE_NAME);
        if (!Files.exists(file)) {
            return;
        }
        try {
            term = TermStateLayout.decode(Files.readAllBytes(file));
        } catch (ArmDbCorruptException e) {
            throw new ArmDbCorruptException(dir + ": " + e.getMessage() + "; this node's replication term is unknown,"
                    + " so the collection is not opened. Remove " + TermStateLayout.FILE_NAME + " (the term restarts"
                    + " at 0) only if no node of this replication group was promoted since this one last ran");
        }
    }

    /**
     * This node's replication term: the number that orders leaders. It is the highest term this node has led under or
     * seen from a leader it followed (0 for a node that has done neither), and it never goes down, not across
     * restarts or crashes either. A leader sends it to its followers; a follower refuses a leader whose term is lower
     * than its own. Any thread.
     */
    public long term() {
        return term;
    }

    /**
     * Raises this node's term to {@code newTerm} if that is higher, durably: it returns once the new term is on disk
     * ({@value TermStateLayout#FILE_NAME} rewritten: temporary file, force, atomic rename, directory force), and
     * {@link #term()} shows it only from then on. A term that is not higher changes nothing. A follower calls it when
     * it meets a leader of a higher term; a coordinator that assigns terms calls it to set one.
     *
     * <p>Threading: any thread. Raises and {@link #promote()} are serialised, so the term never goes down and of two
     * concurrent raises the higher wins.
     *
     * @return the term after the call, at least {@code newTerm}
     * @throws IllegalArgumentException if {@code newTerm} is negative
     * @throws ArmDbException if the collection is closed or the file cannot be written (the term is then unchanged)
     */
    public long raiseTerm(long newTerm) {
        if (newTerm < 0) {
            throw new IllegalArgumentException("a term must be 0.." + Long.MAX_VALUE + ", got " + newTerm);
        }
        synchronized (termLock) {
            if (newTerm > term) {
                checkOpen();
                writeTerm(newTerm);
            }
            return term;
        }
    }

    /** Moves the term one past the highest this node has seen or led under, durably (a promotion). */
    private void advanceTerm() {
        synchronized (termLock) {
            if (term == Long.MAX_VALUE) {
                throw new ArmDbException("promotion of " + dir + " refused: its replication term is already "
                        + Long.MAX_VALUE + ", the highest there is");
            }
            writeTerm(term + 1);
        }
    }

    private void writeTerm(long newTerm) {
        Path file = dir.resolve(TermStateLayout.FILE_NAME);
        try {
            DurableFiles.replace(file, TermStateLayout.encode(newTerm));
        } catch (IOException e) {
            throw new ArmDbException("cannot record replication term " + newTerm + " in " + file + ": " + e, e);
        }
        // published only once durable: nothing may act on a term a crash could take back
        term = newTerm;
    }

    /** True while the collection is a read-only replica. */
    public boolean isReplica() {
        return replica;
    }

    /**
     * Throws if the collection is a read-only replica.
     *
     * @throws ArmDbReadOnlyException saying the collection is a read-only replica
     */
    public void checkWritable() {
        if (replica) {
            throw new ArmDbReadOnlyException(
                    "collection at " + dir + " is a read-only replica; writes are refused until it" + " is promoted");
        }
    }

    /** True once closed. */
    public boolean isClosed() {
        return closed;
    }

    /** Forces every shard and settles retired slots. */
    public void flush() {
        checkOpen();
        for (Shard s : shards) {
            s.flush();
        }
    }

    private void markClean() {
        try {
            PrivateFiles.createFile(dir.resolve(CLEAN_MARK));
            forceDirectory();
        } catch (IOException e) {
            LOG.warn("cannot write {} in {}: the next open counts as unclean: {}", CLEAN_MARK, dir, e.toString());
        }
    }

    /**
     * Flushes, stops the background thread, unmaps every file and releases the directory lock. Idempotent.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the collection is fail-stopped (everything is still released;
     *     the next open recovers)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(maintenance);
        LockSupport.unpark(checkpointer);
        try {
            maintenance.join(10_000);
            checkpointer.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RuntimeException failure = null;
        for (Shard s : shards) {
            try {
                s.close();
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure == null && failStop.hasFailed()) {
            // fail-stopped: what the files hold is not known to be what was written, so the next open recovers
            try {
                failStop.check();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure == null) {
            markClean();
        }
        try {
            lock.release();
        } catch (IOException e) {
            LOG.warn("cannot release lock of {}: {}", dir, e.toString());
        }
        closeQuietly(lockChannel);
        unclaim(dir);
        if (failure != null) {
            throw failure;
        }
    }
}
