package dev.armdb.server;

import java.time.Duration;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of one event loop still in their TLS handshake, each with the time it must have finished by; those
 * that have not are closed, so a client that connects and then sends nothing, or trickles a ClientHello, holds its
 * place (and its TLS buffers) for at most the timeout. Every connection gets the same timeout from its adoption, so
 * the deadlines come in order and a queue suffices: the loop looks only at its head. Owned by the loop's thread.
 */
final class HandshakeDeadlines {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeDeadlines.class);

    private record Deadline(RespConnection connection, long nanos) {}

    private final long timeoutNanos;
    private final ArrayDeque<Deadline> queue = new ArrayDeque<>();

    /** Deadlines {@code timeout} after each connection's adoption. */
    HandshakeDeadlines(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    /** Times {@code c}'s handshake from {@code nowNanos} on, if it has one. */
    void add(RespConnection c, long nowNanos) {
        if (c.handshaking()) {
            queue.add(new Deadline(c, nowNanos + timeoutNanos));
        }
    }

    /** Milliseconds (at least 1) until the next deadline, or 0 if there is none (the selector then waits for I/O). */
    long millisToNext(long nowNanos) {
        dropFinished();
        Deadline head = queue.peek();
        if (head == null) {
            return 0;
        }
        return Math.max(1, Math.ceilDiv(head.nanos() - nowNanos, 1_000_000L));
    }

    /** Closes the connections whose handshake has not finished by {@code nowNanos}. */
    void closeExpired(long nowNanos) {
        dropFinished();
        Deadline head;
        while ((head = queue.peek()) != null && nowNanos - head.nanos() >= 0) {
            queue.poll();
            if (head.connection().handshaking()) {
                LOG.debug(
                        "closed a client whose TLS handshake did not finish within {}", Duration.ofNanos(timeoutNanos));
                head.connection().close();
            }
        }
    }

    private void dropFinished() {
        while (!queue.isEmpty() && !queue.peek().connection().handshaking()) {
            queue.poll();
        }
    }
}
