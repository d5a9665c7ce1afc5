package dev.armdb.replication.protocol;

import dev.armdb.ArmDbException;

/**
 * A peer broke the protocol (bad frame, wrong message, impossible value) or sent an Error frame. The session
 * that meets it closes; nothing from the offending frame is applied. Immutable.
 */
public final class ProtocolException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    /** Creates the exception with the error code to send or that was received, and a message. */
    public ProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    /** The error code. */
    public ErrorCode code() {
        return code;
    }
}
