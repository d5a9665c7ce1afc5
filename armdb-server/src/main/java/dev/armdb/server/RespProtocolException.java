package dev.armdb.server;

import dev.armdb.ArmDbException;

/** A client broke the RESP protocol; its connection is closed (after an error reply). Immutable. */
final class RespProtocolException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    RespProtocolException(String message) {
        super(message);
    }
}
