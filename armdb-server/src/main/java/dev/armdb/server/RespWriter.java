package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The replies of one RESP connection, encoded into a growable buffer that the connection drains into its socket
 * without blocking. Speaks RESP2 until {@link #protocol(int)} switches it to RESP3 (HELLO 3); the typed methods
 * ({@link #mapHeader}, {@link #nullBulk}, {@link #bool}, {@link #dbl}, {@link #verbatim}) encode the RESP3 type, or
 * its RESP2 equivalent, as Redis does. Used by one thread at a time (see {@link RespCommands}).
 */
final class RespWriter {
    private static final byte[] NIL = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NIL_ARRAY = "*-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL3 = "_\r\n".getBytes(StandardCharsets.US_ASCII);
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

    private boolean resp3;

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

    /** Switches the encoding: 2 for RESP2, 3 for RESP3. */
    void protocol(int version) {
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("protocol must be 2 or 3, got " + version);
        }
        resp3 = version == 3;
    }

    /** 2 or 3. */
    int protocol() {
        return resp3 ? 3 : 2;
    }

    /** The end of what is encoded so far, for {@link #truncate}. */
    int mark() {
        return count;
    }

    /** Drops what was encoded after {@code mark} (a reply suppressed by CLIENT REPLY OFF/SKIP). */
    void truncate(int mark) {
        if (mark < sent || mark > count) {
            throw new IllegalArgumentException("mark must be in [" + sent + ", " + count + "], got " + mark);
        }
        count = mark;
    }

    /** A null bulk string: RESP3 null, RESP2 {@code $-1}. */
    void nullBulk() {
        put(resp3 ? NULL3 : NIL);
    }

    /** A null array (EXEC aborted by WATCH): RESP3 null, RESP2 {@code *-1}. */
    void nullArray() {
        put(resp3 ? NULL3 : NIL_ARRAY);
    }

    /** A map of {@code n} pairs: RESP3 {@code %n}, RESP2 an array of {@code 2n} elements. */
    void mapHeader(int n) {
        put(resp3 ? (byte) '%' : (byte) '*');
        decimal(resp3 ? n : 2L * n);
        crlf();
    }

    /** A set of {@code n} elements: RESP3 {@code ~n}, RESP2 an array. */
    void setHeader(int n) {
        put(resp3 ? (byte) '~' : (byte) '*');
        decimal(n);
        crlf();
    }

    /** A boolean: RESP3 {@code #t}/{@code #f}, RESP2 the integer 1 or 0. */
    void bool(boolean b) {
        if (resp3) {
            put((byte) '#');
            put(b ? (byte) 't' : (byte) 'f');
            crlf();
        } else {
            integer(b ? 1 : 0);
        }
    }

    /** A double: RESP3 {@code ,}, RESP2 a bulk string of its decimal form. */
    void dbl(double d) {
        String text = Double.isInfinite(d) ? (d > 0 ? "inf" : "-inf") : Double.isNaN(d) ? "nan" : Double.toString(d);
        if (resp3) {
            put((byte) ',');
            put(text.getBytes(StandardCharsets.US_ASCII));
            crlf();
        } else {
            bulk(text);
        }
    }

    /** Text for humans (CLIENT INFO/LIST, INFO): RESP3 verbatim string of format {@code txt}, RESP2 a bulk string. */
    void verbatim(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (!resp3) {
            bulk(b);
            return;
        }
        put((byte) '=');
        decimal(b.length + 4L);
        crlf();
        put(new byte[] {'t', 'x', 't', ':'});
        put(b);
        crlf();
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
            nullBulk();
            return;
        }
        put((byte) '$');
        decimal(b.length);
        crlf();
        put(b);
        crlf();
    }

    void bulk(String s) {
        bulk(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
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
    boolean drainTo(WritableByteChannel ch) throws IOException {
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
