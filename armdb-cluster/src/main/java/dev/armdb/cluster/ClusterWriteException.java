package dev.armdb.cluster;

import dev.armdb.ArmDbException;

/**
 * A write through a {@link ClusterMember} that the cluster refused or could not confirm; {@link #reason()} says which
 * and whether it was applied. The message is the refusal as a RESP client would read it ({@code TRYAGAIN ...},
 * {@code READONLY ...}, {@code NOREPLICAS ...}). Immutable.
 */
public final class ClusterWriteException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Why a write was refused or not confirmed. */
    public enum Reason {
        /** This member does not lead the group: not applied; write to the leader. */
        NOT_LEADER,
        /** This member leads but may not write now (lease, suspended session, switchover): not applied; retry. */
        TRY_AGAIN,
        /** Fewer in-sync followers than {@code minInsync}: not applied; retry later. */
        NOT_ENOUGH_REPLICAS,
        /**
         * Applied here, but not acknowledged by the in-sync followers before they dropped below {@code minInsync} or
         * this member stopped leading: it may or may not survive a failover.
         */
        OUTCOME_UNKNOWN
    }

    private final Reason reason;

    ClusterWriteException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /**
     * The reason a refusal line (a RESP error without its {@code -}) names by its error code; {@code applied}: the
     * write was applied before the refusal, so its outcome is unknown.
     */
    static ClusterWriteException of(String refusal, boolean applied) {
        if (applied) {
            return new ClusterWriteException(Reason.OUTCOME_UNKNOWN, refusal);
        }
        Reason r;
        if (refusal.startsWith("TRYAGAIN")) {
            r = Reason.TRY_AGAIN;
        } else if (refusal.startsWith("NOREPLICAS")) {
            r = Reason.NOT_ENOUGH_REPLICAS;
        } else {
            r = Reason.NOT_LEADER;
        }
        return new ClusterWriteException(r, refusal);
    }

    /** Why the write was refused or not confirmed. */
    public Reason reason() {
        return reason;
    }

    /** True if the write may have been applied (its outcome is unknown); false if it certainly was not. */
    public boolean mayHaveApplied() {
        return reason == Reason.OUTCOME_UNKNOWN;
    }
}
