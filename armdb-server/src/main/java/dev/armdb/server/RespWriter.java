package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The replies of one RESP connection, encoded into a growable buffer that the connection drains into its socket
 * without blocking. Used by one thread at a time (see {@link RespCommands}).
 */
final class RespWriter {
    private static final byte[] NIL = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_LONG_DIGITS = 20;

    private final int initialCapacity;
    private final long limit;
    private final BufferBudget budget;
    private byte[] buf;
    private ByteBuffer view;
    private int count;
    private int sent;
    /** Bytes of {@link #buf} beyond the initial capacity, reserved from {@link #budget}. */
    private long reserved;

    private boolean overLimit;

    /** A writer with no limit but the largest array. */
    RespWriter(int initialCapacity) {
        this(initialCapacity, ClientLimits.MAX_BUFFER, new BufferBudget(Long.MAX_VALUE));
    }

    /**
     * A writer whose unsent replies may reach {@code limit} bytes, and whose buffer grows only with room reserved
     * from {@code budget}; past either, {@link #overLimit()} turns true and every further reply throws.
     */
    RespWriter(int initialCapacity, long limit, BufferBudget budget) {
        this.initialCapacity = initialCapacity;
        this.limit = limit;
        this.budget = budget;
        this.buf = new byte[initialCapacity];
        this.view = ByteBuffer.wrap(buf);
    }

    void ok() {
        put(OK);
    }

    void simple(String s) {
        put((byte) '+');
        put(s.getBytes(StandardCharsets.UTF_8));
        crlf();
    }

    void error(String s) {
        put((byte) '-');
        put(s.replace('\r', ' ').replace('\n', ' ').getBytes(StandardCharsets.UTF_8));
        crlf();
    }

    void integer(long v) {
        put((byte) ':');
        decimal(v);
        crlf();
    }

    void bulk(byte[] b) {
        if (b == null) {
            put(NIL);
            return;
        }
        put((byte) '$');
        decimal(b.length);
        crlf();
        put(b);
        crlf();
    }

    void bulk(String s) {
        bulk(s.getBytes(StandardCharsets.UTF_8));
    }

    void arrayHeader(int n) {
        put((byte) '*');
        decimal(n);
        crlf();
    }

    /** Bytes encoded but not yet written to the socket. */
    int pending() {
        return count - sent;
    }

    /**
     * Writes as much of the pending replies as the socket takes now; returns true when nothing is left. An emptied
     * buffer that had grown for a large reply shrinks back, so idle connections hold little memory.
     */
    boolean drainTo(SocketChannel ch) throws IOException {
        if (count == sent) {
            return true;
        }
        view.limit(count).position(sent);
        sent += ch.write(view);
        if (sent < count) {
            return false;
        }
        count = 0;
        sent = 0;
        if (buf.length > 4 * initialCapacity) {
            releaseBuffer();
        }
        return true;
    }

    /**
     * True once the replies outgrew the client's limit or the node's budget: the connection must close without
     * sending them (they are incomplete).
     */
    boolean overLimit() {
        return overLimit;
    }

    /** Drops the grown buffer and gives its reservation back; for a connection that closed. */
    void releaseBuffer() {
        buf = new byte[initialCapacity];
        view = ByteBuffer.wrap(buf);
        budget.release(reserved);
        reserved = 0;
    }

    private void decimal(long v) {
        ensure(MAX_LONG_DIGITS);
        if (v == Long.MIN_VALUE) {
            put(Long.toString(v).getBytes(StandardCharsets.US_ASCII));
            return;
        }
        if (v < 0) {
            buf[count++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        for (int i = count + digits - 1; i >= count; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        count += digits;
    }

    private void crlf() {
        ensure(2);
        buf[count++] = '\r';
        buf[count++] = '\n';
    }

    private void put(byte b) {
        ensure(1);
        buf[count++] = b;
    }

    private void put(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, count, b.length);
        count += b.length;
    }

    private void ensure(int more) {
        if (overLimit) {
            throw new RespProtocolException("reply buffer limit reached");
        }
        if (count + more <= buf.length) {
            return;
        }
        if (sent > 0) {
            System.arraycopy(buf, sent, buf, 0, count - sent);
            count -= sent;
            sent = 0;
            if (count + more <= buf.length) {
                return;
            }
        }
        if ((long) count + more > limit) {
            overLimit = true;
            throw new RespProtocolException(
                    "unread replies would exceed the client reply buffer limit of " + limit + " bytes");
        }
        long want = Math.min(Math.max((long) buf.length * 2, (long) count + more), limit);
        long grow = want - buf.length;
        if (!budget.tryReserve(grow)) {
            overLimit = true;
            throw new RespProtocolException("the node's client buffers are full (" + budget.limit() + " bytes)");
        }
        reserved += grow;
        buf = Arrays.copyOf(buf, (int) want);
        view = ByteBuffer.wrap(buf);
    }
}
