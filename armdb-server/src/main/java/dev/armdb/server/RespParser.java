package dev.armdb.server;

import java.nio.ByteBuffer;

/**
 * Parses RESP requests out of a connection's input buffer as bytes arrive: arrays of bulk strings ({@code
 * *N\r\n$len\r\n...\r\n}) and inline commands ({@code PING\r\n}). Used by one thread at a time.
 *
 * <p>Design note: the parser resumes where it stopped. A request split across reads stays in the buffer until it is
 * whole, but the arguments already parsed are remembered (as offsets from the request's first byte, which survive
 * the buffer being compacted or grown), so a request of many arguments fed a byte at a time costs time linear in its
 * size. Nothing is allocated from an announced count or length: the caller's buffer grows with the bytes that
 * arrived and the argument slices with the arguments that arrived. Announced counts and lengths beyond the limits
 * are a {@link RespProtocolException} with Redis's wording.
 */
final class RespParser {
    /** Most arguments one request may carry (Redis' limit for multibulk lengths). */
    static final int MAX_ARGS = 1 << 20;
    /** Largest bulk string (Redis' default {@code proto-max-bulk-len}). */
    static final long MAX_BULK = 512L << 20;
    /** Longest inline command line. */
    static final int MAX_LINE = 64 << 10;

    private static final long INCOMPLETE = Long.MIN_VALUE;
    private static final int MAX_NUMBER_LINE = 22;

    /** Where the parser stands within the current request. */
    enum State {
        /** Between requests: the next byte starts one. */
        START,
        /** Looking for the end of an inline command line. */
        INLINE,
        /** The next bytes are the {@code $len\r\n} header of a bulk string. */
        BULK_HEADER,
        /** Waiting for the body of a bulk string whose length is known. */
        BULK_BODY
    }

    private final long maxBulk;
    private final RespRequest request = new RespRequest();
    private State state = State.START;
    /** Bytes of the current request already parsed, from its first byte: where parsing resumes. */
    private int parsed;
    /** Bulk strings the current multibulk request still has to deliver. */
    private long remaining;
    /** Announced length of the bulk string being read. */
    private long bulkLength;
    /** Where the number just parsed ends (the byte after its CRLF), absolute in the array. */
    private int cursor;

    /** A parser accepting bulk strings up to {@link #MAX_BULK}. */
    RespParser() {
        this(MAX_BULK);
    }

    /** A parser refusing bulk strings longer than {@code maxBulk} bytes (capped at {@link #MAX_BULK}). */
    RespParser(long maxBulk) {
        this.maxBulk = Math.min(maxBulk, MAX_BULK);
    }

    /** Where the parser stands (for tests and diagnostics). */
    State state() {
        return state;
    }

    /**
     * The next whole request in {@code in} (read mode: position..limit), consuming it; or null if the buffer holds
     * only part of one, leaving the position at the request's first byte (the bytes after it must be kept, possibly
     * moved, for the next call). The request returned is reused by the next call; a request with no arguments is a
     * blank line or an empty array, to be skipped.
     *
     * @throws RespProtocolException if the bytes are not RESP or break a limit; the connection must be closed
     */
    RespRequest next(ByteBuffer in) {
        byte[] a = in.array();
        int start = in.arrayOffset() + in.position();
        int end = in.arrayOffset() + in.limit();
        while (true) {
            int p = start + parsed;
            if (p >= end) {
                return null;
            }
            switch (state) {
                case START -> {
                    request.clear();
                    if (a[p] != '*') {
                        transition(State.INLINE);
                        continue;
                    }
                    long n = number(a, p + 1, end);
                    if (n == INCOMPLETE) {
                        return null;
                    }
                    if (n > MAX_ARGS || n < 0) {
                        throw new RespProtocolException("invalid multibulk length");
                    }
                    parsed = cursor - start;
                    if (n == 0) {
                        return complete(in, a, start);
                    }
                    remaining = n;
                    transition(State.BULK_HEADER);
                }
                case BULK_HEADER -> {
                    if (a[p] != '$') {
                        throw new RespProtocolException("expected '$', got '" + printable(a[p]) + "'");
                    }
                    long len = number(a, p + 1, end);
                    if (len == INCOMPLETE) {
                        return null;
                    }
                    if (len < 0 || len > maxBulk) {
                        throw new RespProtocolException("invalid bulk length");
                    }
                    bulkLength = len;
                    parsed = cursor - start;
                    transition(State.BULK_BODY);
                }
                case BULK_BODY -> {
                    if ((long) end - p < bulkLength + 2) {
                        return null;
                    }
                    int stop = p + (int) bulkLength;
                    if (a[stop] != '\r' || a[stop + 1] != '\n') {
                        throw new RespProtocolException("expected CRLF after a bulk string");
                    }
                    request.add(parsed, (int) bulkLength);
                    parsed += (int) bulkLength + 2;
                    if (--remaining == 0) {
                        return complete(in, a, start);
                    }
                    transition(State.BULK_HEADER);
                }
                case INLINE -> {
                    return inline(in, a, start, end);
                }
            }
        }
    }

    private void transition(State next) {
        state = next;
    }

    private RespRequest complete(ByteBuffer in, byte[] a, int start) {
        request.bind(a, start);
        in.position(start + parsed - in.arrayOffset());
        parsed = 0;
        transition(State.START);
        return request;
    }

    /** Parses {@code [-]digits\r\n} at {@code p}; sets {@link #cursor} past it; INCOMPLETE if the CRLF is missing. */
    private long number(byte[] a, int p, int end) {
        long v = 0;
        boolean neg = false;
        int digits = 0;
        int i = p;
        if (i < end && a[i] == '-') {
            neg = true;
            i++;
        }
        while (i < end && a[i] >= '0' && a[i] <= '9') {
            v = v * 10 + (a[i] - '0');
            if (++digits > 18) {
                throw new RespProtocolException("number too long");
            }
            i++;
        }
        if (i + 1 >= end) {
            if (i < end && a[i] != '\r' || i - p > MAX_NUMBER_LINE) {
                throw new RespProtocolException("expected a number followed by CRLF");
            }
            return INCOMPLETE;
        }
        if (a[i] != '\r' || a[i + 1] != '\n' || digits == 0) {
            throw new RespProtocolException("expected a number followed by CRLF");
        }
        cursor = i + 2;
        return neg ? -v : v;
    }

    /** Finds the end of the line, resuming after the bytes already searched, then splits it at blanks. */
    private RespRequest inline(ByteBuffer in, byte[] a, int start, int end) {
        int limit = (int) Math.min(end, (long) start + MAX_LINE + 1);
        int nl = start + parsed;
        while (nl < limit && a[nl] != '\n') {
            nl++;
        }
        if (nl == limit) {
            if (limit - start > MAX_LINE) {
                throw new RespProtocolException("too big inline request");
            }
            parsed = nl - start;
            return null;
        }
        int i = start;
        while (i < nl) {
            while (i < nl && isSpace(a[i])) {
                i++;
            }
            int s = i;
            while (i < nl && !isSpace(a[i])) {
                i++;
            }
            if (i > s) {
                request.add(s - start, i - s);
            }
        }
        parsed = nl + 1 - start;
        return complete(in, a, start);
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r';
    }

    private static String printable(byte c) {
        return c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c & 0xFF);
    }
}
