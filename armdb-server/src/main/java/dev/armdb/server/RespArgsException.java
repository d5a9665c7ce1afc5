package dev.armdb.server;

/**
 * A reply-level error (bad arguments, refused command): its message, which starts with Redis's error code, is the
 * error reply; the connection stays open.
 */
final class RespArgsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RespArgsException(String message) {
        super(message, null, false, false);
    }
}
