package dev.armdb.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * The state of one replica group as the controller records it in ZooKeeper ({@link GroupStateLayout}): who leads, in
 * which term, which followers are in sync, and the last failover. Only the controller writes it, with compare-and-set
 * on the znode's version. Immutable.
 *
 * @param term the leader's term: the node named leader serves under exactly this term (or, after a crash during its
 *     promotion, a higher one, which the controller then records); followers refuse lower terms
 * @param leader the node id of the leader, empty while the group has none
 * @param isr the in-sync followers (never the leader), sorted: the only candidates of an automatic failover
 * @param minInsync the in-sync followers the group asks for (the leader's {@code --min-insync})
 * @param lastFailoverMillis wall-clock time of the last automatic failover, epoch milliseconds (0: none yet)
 * @param reason why the state last changed, for operators
 * @param lastFailoverReason why the last automatic failover happened (kept while later changes replace {@code
 *     reason}), empty if none or if the state was written in format 1
 */
public record GroupState(
        long term,
        String leader,
        List<String> isr,
        int minInsync,
        long lastFailoverMillis,
        String reason,
        String lastFailoverReason) {
    /** Checks the fields; sorts and copies the ISR; cuts the reasons to {@value GroupStateLayout#MAX_REASON_CHARS}. */
    public GroupState {
        if (term < 0) {
            throw new IllegalArgumentException("term must be >= 0, got " + term);
        }
        if (!leader.isEmpty()) {
            NodeIds.check(leader, "leader");
        }
        List<String> sorted = new ArrayList<>(isr);
        sorted.sort(null);
        for (int i = 0; i < sorted.size(); i++) {
            NodeIds.check(sorted.get(i), "ISR member");
            if (sorted.get(i).equals(leader) || (i > 0 && sorted.get(i).equals(sorted.get(i - 1)))) {
                throw new IllegalArgumentException(
                        "the ISR lists followers once each and never the leader " + leader + ", got " + isr);
            }
        }
        isr = List.copyOf(sorted);
        if (minInsync < 0 || minInsync > GroupStateLayout.MAX_MEMBERS) {
            throw new IllegalArgumentException(
                    "minInsync must be 0.." + GroupStateLayout.MAX_MEMBERS + ", got " + minInsync);
        }
        if (sorted.size() > GroupStateLayout.MAX_MEMBERS) {
            throw new IllegalArgumentException(
                    "at most " + GroupStateLayout.MAX_MEMBERS + " ISR members, got " + sorted.size());
        }
        reason = cut(reason);
        lastFailoverReason = cut(lastFailoverReason);
    }

    /** A state without a recorded failover reason (none happened, or it is not known). */
    public GroupState(
            long term, String leader, List<String> isr, int minInsync, long lastFailoverMillis, String reason) {
        this(term, leader, isr, minInsync, lastFailoverMillis, reason, "");
    }

    private static String cut(String reason) {
        return reason.length() > GroupStateLayout.MAX_REASON_CHARS
                ? reason.substring(0, GroupStateLayout.MAX_REASON_CHARS)
                : reason;
    }

    /** This state with another ISR and reason. */
    GroupState withIsr(List<String> newIsr, String why) {
        return new GroupState(term, leader, newIsr, minInsync, lastFailoverMillis, why, lastFailoverReason);
    }

    /** This state with another term and reason. */
    GroupState withTerm(long newTerm, String why) {
        return new GroupState(newTerm, leader, isr, minInsync, lastFailoverMillis, why, lastFailoverReason);
    }
}
