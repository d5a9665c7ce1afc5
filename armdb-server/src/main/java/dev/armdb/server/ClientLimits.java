package dev.armdb.server;

/**
 * How much memory RESP clients may make a node hold: per client for the request being received (the query buffer)
 * and for replies not yet read (the reply buffer), and for all clients' buffers together. A client that reaches a
 * limit is closed (its request is refused with an error reply, or its replies are dropped), never the node.
 * Immutable.
 *
 * @param queryBufferBytes largest request (or pipeline tail) one client's input buffer may hold, as Redis'
 *     {@code client-query-buffer-limit}; also bounds the bulk strings a request may announce
 * @param replyBufferBytes most reply bytes one client may leave unread before it is closed, as the hard limit of
 *     Redis' {@code client-output-buffer-limit normal}
 * @param nodeBufferBytes most bytes all clients' input and reply buffers may hold beyond their small initial
 *     buffers; 0 means half of the JVM's maximum heap
 */
public record ClientLimits(long queryBufferBytes, long replyBufferBytes, long nodeBufferBytes) {
    /** Default {@link #queryBufferBytes}: 64 MiB (Redis: 1 GiB, but our values are small and fixed-size). */
    public static final long DEFAULT_QUERY_BUFFER = 64L << 20;
    /** Default {@link #replyBufferBytes}: 256 MiB. */
    public static final long DEFAULT_REPLY_BUFFER = 256L << 20;
    /** Smallest {@link #queryBufferBytes}: one inline command line of the longest allowed. */
    public static final long MIN_QUERY_BUFFER = 64L << 10;
    /** Largest {@link #queryBufferBytes} and {@link #replyBufferBytes}: one Java array must hold it. */
    public static final long MAX_BUFFER = 1L << 30;

    /** The defaults: 64 MiB per request, 256 MiB of unread replies per client, half the heap for all clients. */
    public static final ClientLimits DEFAULTS = new ClientLimits(DEFAULT_QUERY_BUFFER, DEFAULT_REPLY_BUFFER, 0);

    /** Checks the ranges. */
    public ClientLimits {
        if (queryBufferBytes < MIN_QUERY_BUFFER || queryBufferBytes > MAX_BUFFER) {
            throw new IllegalArgumentException("the client query buffer limit must be within " + MIN_QUERY_BUFFER + ".."
                    + MAX_BUFFER + " bytes, got " + queryBufferBytes);
        }
        if (replyBufferBytes < MIN_QUERY_BUFFER || replyBufferBytes > MAX_BUFFER) {
            throw new IllegalArgumentException("the client reply buffer limit must be within " + MIN_QUERY_BUFFER + ".."
                    + MAX_BUFFER + " bytes, got " + replyBufferBytes);
        }
        if (nodeBufferBytes < 0) {
            throw new IllegalArgumentException(
                    "the node's client buffer limit must be >= 0 (0 = half the heap), got " + nodeBufferBytes);
        }
    }

    /** These limits with another per-client query buffer limit. */
    public ClientLimits withQueryBufferBytes(long bytes) {
        return new ClientLimits(bytes, replyBufferBytes, nodeBufferBytes);
    }

    /** These limits with another per-client reply buffer limit. */
    public ClientLimits withReplyBufferBytes(long bytes) {
        return new ClientLimits(queryBufferBytes, bytes, nodeBufferBytes);
    }

    /** These limits with another limit for all clients together (0: half the heap). */
    public ClientLimits withNodeBufferBytes(long bytes) {
        return new ClientLimits(queryBufferBytes, replyBufferBytes, bytes);
    }

    /** {@link #nodeBufferBytes} with 0 resolved against this JVM's maximum heap. */
    long effectiveNodeBufferBytes() {
        return nodeBufferBytes != 0 ? nodeBufferBytes : Runtime.getRuntime().maxMemory() / 2;
    }
}
