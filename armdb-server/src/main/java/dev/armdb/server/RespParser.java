package dev.armdb.server;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parses RESP2 requests out of a connection's input buffer as bytes arrive: arrays of bulk strings ({@code
 * *N\r\n$len\r\n...\r\n}) and inline commands ({@code PING\r\n}). A request split across reads is left in the
 * buffer until it is whole; sizes are capped; anything else is a {@link RespProtocolException}. Used by one thread at
 * a time.
 */
final class RespParser {
    /** Most arguments one request may carry. */
    static final int MAX_ARGS = 1 << 20;
    /** Largest bulk string. */
    static final int MAX_BULK = 512 << 20;
    /** Longest inline command line. */
    static final int MAX_LINE = 64 << 10;

    private static final int INCOMPLETE = -1;
    private static final int MAX_NUMBER_LINE = 22;

    /** Where the number just parsed ends (the byte after its CRLF). */
    private int cursor;

    /** Buffer bytes a request announced so far needs in all, so the caller can grow the buffer once. */
    private long needed;

    /**
     * The next whole request in {@code in} (read mode: position..limit), consuming it; or null if the buffer holds
     * only part of one, leaving the position where it was. An empty list is a blank request, to be skipped.
     */
    List<byte[]> next(ByteBuffer in) {
        byte[] a = in.array();
        int start = in.arrayOffset() + in.position();
        int end = in.arrayOffset() + in.limit();
        needed = 0;
        if (start >= end) {
            return null;
        }
        List<byte[]> args = a[start] == '*' ? multiBulk(a, start, end) : inline(a, start, end);
        if (args != null) {
            in.position(cursor - in.arrayOffset());
        }
        return args;
    }

    /** Total bytes, from the request's first byte, that the last incomplete request is known to need; 0 if unknown. */
    long needed() {
        return needed;
    }

    private List<byte[]> multiBulk(byte[] a, int start, int end) {
        long n = number(a, start + 1, end);
        if (n == INCOMPLETE) {
            return null;
        }
        if (n < 0 || n > MAX_ARGS) {
            throw new RespProtocolException("invalid multibulk length " + n);
        }
        List<byte[]> args = new ArrayList<>((int) Math.min(n, 64));
        int p = cursor;
        for (long i = 0; i < n; i++) {
            if (p >= end) {
                return null;
            }
            if (a[p] != '$') {
                throw new RespProtocolException("expected '$', got '" + printable(a[p]) + "'");
            }
            long len = number(a, p + 1, end);
            if (len == INCOMPLETE) {
                return null;
            }
            if (len < 0 || len > MAX_BULK) {
                throw new RespProtocolException("invalid bulk length " + len);
            }
            p = cursor;
            if ((long) end - p < len + 2) {
                needed = (long) p - start + len + 2;
                return null;
            }
            int stop = p + (int) len;
            if (a[stop] != '\r' || a[stop + 1] != '\n') {
                throw new RespProtocolException("expected CRLF after a bulk string");
            }
            args.add(Arrays.copyOfRange(a, p, stop));
            p = stop + 2;
        }
        cursor = p;
        return args;
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

    private List<byte[]> inline(byte[] a, int start, int end) {
        int limit = (int) Math.min(end, (long) start + MAX_LINE + 1);
        int nl = start;
        while (nl < limit && a[nl] != '\n') {
            nl++;
        }
        if (nl == limit) {
            if (limit - start > MAX_LINE) {
                throw new RespProtocolException("too big inline request");
            }
            return null;
        }
        cursor = nl + 1;
        List<byte[]> args = new ArrayList<>();
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
                args.add(Arrays.copyOfRange(a, s, i));
            }
        }
        return args;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r';
    }

    private static String printable(byte c) {
        return c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c & 0xFF);
    }
}
