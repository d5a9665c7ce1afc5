package dev.armdb.cluster;

/**
 * Where a {@link ClusterMember} stands in its replica group, as its cluster thread last saw it: leading, following
 * the named leader, or neither. A leader may still refuse a write for a moment (it waits out its predecessor's lease,
 * its ZooKeeper connection is suspended, too few followers are in sync): {@link ClusterMember#acceptsWrites()} and
 * the write methods say so at the time of the write. Immutable.
 *
 * @param kind leading, following, or neither
 * @param leader the node id the group state names leader (this member's own id when it leads), empty if none
 * @param term the term of the group state read (0 before the first)
 */
public record MemberRole(Kind kind, String leader, long term) {
    /** The three places a member can be. */
    public enum Kind {
        /** The group state names this member, and it holds itself the leader (its session is not lost). */
        LEADER,
        /** The group state names another member, which this one follows (or is about to). */
        FOLLOWER,
        /** Neither: no group state yet, a leader whose ZooKeeper session was lost, a named leader back from an unclean stop. */
        NONE
    }

    /** No role: before the first group state. */
    static final MemberRole NONE = new MemberRole(Kind.NONE, "", 0);
}
