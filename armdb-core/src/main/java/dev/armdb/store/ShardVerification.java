package dev.armdb.store;

import dev.armdb.FixedConfig;
import dev.armdb.VerifyReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Read-only recovery scan of one shard file, for the {@code Verifier}. Used by one thread.
 */
public final class ShardVerification {
    private final ShardRecovery rec;
    private final int shard;
    private final int slotsChecked;

    private ShardVerification(int shard, ShardRecovery rec) {
        this.shard = shard;
        this.rec = rec;
        this.slotsChecked = rec.slotsChecked;
    }

    /** Maps shard {@code id} of the collection in {@code dir} read-only and scans it. */
    public static ShardVerification verify(Path dir, DbMeta meta, int id) {
        FixedConfig defaults = meta.toConfig().build();
        int shift = ShardFile.chunkShiftFor(defaults.growthStepBytes(), meta.slotSize());
        try (ShardFile file = ShardFile.open(
                dir,
                meta,
                id,
                shift,
                FixedConfig.MAX_SLOTS_PER_SHARD,
                true,
                MappedShardStorage.OPENER,
                new FailStop())) {
            return new ShardVerification(id, ShardRecovery.scan(file, meta.keySize(), meta.slotSize()));
        }
    }

    /** The findings as a public report. */
    public VerifyReport.ShardReport toReport() {
        List<Integer> corrupt = new ArrayList<>();
        for (int c : rec.corrupt) {
            corrupt.add(c);
        }
        long superseded = rec.losers.length - rec.incomplete;
        long free = rec.reusable.length - rec.corrupt.length - rec.deletedSlots;
        long empty = slotsChecked - rec.highWater;
        return new VerifyReport.ShardReport(
                shard,
                slotsChecked,
                rec.index.size(),
                superseded,
                rec.deletedSlots,
                free,
                empty,
                rec.incomplete,
                corrupt,
                rec.maxLsn);
    }
}
