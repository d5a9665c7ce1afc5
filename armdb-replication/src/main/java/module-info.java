/**
 * armdb's leader-to-follower replication over TCP: {@link dev.armdb.replication.leader.ReplicationServer} on the
 * leader, {@link dev.armdb.replication.follower.ReplicationClient} on each follower, their shared secret and TLS
 * helpers. The wire protocol's frame classes are internal.
 */
module dev.armdb.replication {
    requires transitive dev.armdb.core;
    requires org.slf4j;

    exports dev.armdb.replication;
    exports dev.armdb.replication.leader;
    exports dev.armdb.replication.follower;
}
