package dev.armdb.cli;

import dev.armdb.Verifier;
import dev.armdb.VerifyReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code armdb verify}: checks every slot of a closed collection; exit 0 if clean, 1 if any slot is corrupt. */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = "Check every slot of a collection that is not open; exit 0 if clean, 1 if corrupt.")
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Collection directory.")
    Path dir;

    @Override
    public Integer call() {
        int shards = dev.armdb.store.DbMeta.read(dir.toAbsolutePath()).shardCount();
        Progress progress = new Progress("verifying", shards, System.err);
        VerifyReport r = Verifier.verify(dir, progress::update);
        progress.finish(shards);
        System.out.printf("collection %s (database %s)%n", r.dir(), r.databaseId());
        System.out.println(
                "shard      slots       live superseded    deleted       free      empty incomplete corrupt");
        for (VerifyReport.ShardReport s : r.shards()) {
            System.out.printf(
                    "%5d %10d %10d %10d %10d %10d %10d %10d %7d%s%n",
                    s.shard(),
                    s.slotsChecked(),
                    s.liveKeys(),
                    s.supersededSlots(),
                    s.deletedSlots(),
                    s.freeSlots(),
                    s.emptySlots(),
                    s.incompleteSlots(),
                    s.corruptSlots().size(),
                    s.corruptSlots().isEmpty() ? "" : "  corrupt slot ids: " + s.corruptSlots());
        }
        System.out.printf(
                "%s: %,d slots checked, %,d live keys, %,d corrupt%n",
                r.clean() ? "clean" : "CORRUPT", r.slotsChecked(), r.liveKeys(), r.corruptSlots());
        return r.clean() ? 0 : 1;
    }
}
