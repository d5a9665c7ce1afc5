/** Micrometer meters over an armdb collection's statistics and its replication counters. */
module dev.armdb.micrometer {
    requires transitive dev.armdb.replication;
    requires transitive micrometer.core;

    exports dev.armdb.micrometer;
}
