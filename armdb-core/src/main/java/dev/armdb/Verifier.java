package dev.armdb;

import dev.armdb.store.DbMeta;
import dev.armdb.store.ShardFileLayout;
import dev.armdb.store.ShardVerification;
import dev.armdb.store.Store;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks every slot of a collection that is not open: CRCs, headers, duplicate keys, tombstones. Read-only: maps
 * the files read-only and changes nothing. Holds the collection's directory lock while it runs, so nobody can
 * open the collection meanwhile.
 *
 * <p>Stateless; {@link #verify(Path)} may be called from any thread.
 */
public final class Verifier {
    private Verifier() {}

    /**
     * Verifies the collection in {@code dir}.
     *
     * @throws ArmDbException if the collection is open, or missing
     * @throws ArmDbCorruptException if {@code db.meta} or a shard header is damaged
     */
    public static VerifyReport verify(Path dir) {
        return verify(dir, done -> {});
    }

    /**
     * Verifies the collection in {@code dir}, telling {@code shardsDone} after each shard how many shards are
     * done (for progress displays).
     *
     * @throws ArmDbException if the collection is open, or missing
     * @throws ArmDbCorruptException if {@code db.meta} or a shard header is damaged
     */
    public static VerifyReport verify(Path dir, java.util.function.IntConsumer shardsDone) {
        Path abs = dir.toAbsolutePath().normalize();
        DbMeta meta = DbMeta.read(abs);
        Store.claim(abs);
        try (FileChannel lockChannel =
                FileChannel.open(abs.resolve(Store.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = lockChannel.tryLock();
            if (lock == null) {
                throw new ArmDbException("collection at " + abs + " is open; close it before verifying");
            }
            try {
                List<VerifyReport.ShardReport> shards = new ArrayList<>();
                for (int i = 0; i < meta.shardCount(); i++) {
                    if (!Files.exists(abs.resolve(ShardFileLayout.fileName(i)))) {
                        shards.add(new VerifyReport.ShardReport(i, 0, 0, 0, 0, 0, 0, 0, List.of(), 0));
                        continue;
                    }
                    shards.add(ShardVerification.verify(abs, meta, i).toReport());
                    shardsDone.accept(i + 1);
                }
                return new VerifyReport(abs, meta.databaseIdHex(), shards);
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw new ArmDbException("cannot verify " + abs + ": " + e, e);
        } finally {
            Store.unclaim(abs);
        }
    }
}
