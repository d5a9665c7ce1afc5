package dev.armdb.cli;

import dev.armdb.FixedMap;
import dev.armdb.StoreStats;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code armdb stats}: sizes, slot counts and LSNs per shard of a collection that is not open. */
@Command(
        name = "stats",
        mixinStandardHelpOptions = true,
        description = "Sizes, live/free/deleted/corrupt slots and LSN per shard (opens the collection).")
final class StatsCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Collection directory.")
    Path dir;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        try (FixedMap map = FixedMap.open(dir)) {
            StoreStats st = map.stats();
            var cfg = map.config();
            if (json) {
                StringJoiner shards = new StringJoiner(",", "[", "]");
                for (StoreStats.ShardStats s : st.shards()) {
                    shards.add(String.format(
                            "{\"shard\":%d,\"live\":%d,\"free\":%d,\"deleted\":%d,\"corrupt\":%d,\"incomplete\":%d,"
                                    + "\"maxLsn\":%d,\"capacity\":%d,\"fileBytes\":%d}",
                            s.shard(),
                            s.liveSlots(),
                            s.freeSlots(),
                            s.deletedSlots(),
                            s.corruptSlots(),
                            s.incompleteSlots(),
                            s.maxLsn(),
                            s.capacitySlots(),
                            s.fileBytes()));
                }
                System.out.printf(
                        "{\"databaseId\":\"%s\",\"keySize\":%d,\"valueSize\":%d,\"shards\":%d,\"live\":%d,"
                                + "\"fileBytes\":%d,\"shardStats\":%s}%n",
                        st.databaseId(),
                        cfg.keySize(),
                        cfg.valueSize(),
                        cfg.shards(),
                        st.liveSlots(),
                        st.fileBytes(),
                        shards);
                return 0;
            }
            System.out.printf(
                    "collection %s: database %s, key %d B, value %d B, %d shards, routing %s%n",
                    map.path(), st.databaseId(), cfg.keySize(), cfg.valueSize(), cfg.shards(), cfg.routing());
            System.out.println("shard       live       free    deleted corrupt incomplete        maxLsn    file bytes");
            for (StoreStats.ShardStats s : st.shards()) {
                System.out.printf(
                        "%5d %10d %10d %10d %7d %10d %13d %13d%n",
                        s.shard(),
                        s.liveSlots(),
                        s.freeSlots(),
                        s.deletedSlots(),
                        s.corruptSlots(),
                        s.incompleteSlots(),
                        s.maxLsn(),
                        s.fileBytes());
            }
            System.out.printf("total: %,d live keys, %,d file bytes%n", st.liveSlots(), st.fileBytes());
            return 0;
        }
    }
}
