package dev.armdb.cli;

import dev.armdb.Digest;
import dev.armdb.FixedMap;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code armdb digest}: the order-independent digest of a collection's live pairs, per shard and total. */
@Command(
        name = "digest",
        mixinStandardHelpOptions = true,
        description = "Order-independent digest of the live key/value pairs (compare leader and follower).")
final class DigestCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Collection directory.")
    Path dir;

    @Override
    public Integer call() {
        try (FixedMap map = FixedMap.open(dir)) {
            Digest d = Digest.of(map);
            for (int s = 0; s < d.shardCounts().size(); s++) {
                System.out.printf("shard %d %s%n", s, d.shardHex(s));
            }
            System.out.println("total " + d.hex());
        }
        return 0;
    }
}
