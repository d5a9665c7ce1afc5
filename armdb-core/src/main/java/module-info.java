/**
 * armdb's engine: fixed-size keys and values in fixed-size slots of memory-mapped shard files. Embedders see {@code
 * dev.armdb} only ({@link dev.armdb.FixedMap}, {@link dev.armdb.FixedTree} and their configuration and errors); the
 * storage, index and change-feed packages are the engine's inside, open to the replication module alone, so the
 * compiler keeps user code away from what may change a collection behind the engine's back (applying replicated
 * images, wiping, promoting).
 */
module dev.armdb.core {
    requires org.slf4j;

    exports dev.armdb;
    exports dev.armdb.store to
            dev.armdb.replication;
    exports dev.armdb.changes to
            dev.armdb.replication;
    exports dev.armdb.index to
            dev.armdb.replication;
}
