package dev.armdb.server;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads RESP2 requests: arrays of bulk strings ({@code *N\r\n$len\r\n...\r\n}) and inline commands ({@code
 * PING\r\n}). Sizes are capped; anything else is a {@link RespProtocolException}. Used by one connection thread.
 */
final class RespReader {
    static final int MAX_ARGS = 1 << 20;
    static final int MAX_BULK = 512 << 20;
    private static final int MAX_LINE = 64 << 10;

    private final BufferCountingInputStream in;

    /** Reads from {@code raw} through a buffer of {@code bufferBytes}. */
    RespReader(InputStream raw, int bufferBytes) {
        this.in = new BufferCountingInputStream(raw, bufferBytes);
    }

    /**
     * True if bytes are already buffered (more pipelined requests follow). No system call: only what earlier reads
     * brought in counts, so replies are flushed once per batch of pipelined requests.
     */
    boolean hasBuffered() {
        return in.bufferedBytes() > 0;
    }

    /** A buffered stream that tells how many bytes it holds without asking the socket. */
    private static final class BufferCountingInputStream extends java.io.BufferedInputStream {
        BufferCountingInputStream(InputStream in, int size) {
            super(in, size);
        }

        int bufferedBytes() {
            // count and pos belong to the connection's one reader thread
            return count - pos;
        }
    }

    /** The next request's arguments, or null at a clean end of stream. */
    List<byte[]> read() throws IOException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        if (first == '*') {
            long n = readLong();
            if (n < 0 || n > MAX_ARGS) {
                throw new RespProtocolException("invalid multibulk length " + n);
            }
            List<byte[]> args = new ArrayList<>((int) n);
            for (long i = 0; i < n; i++) {
                int t = in.read();
                if (t != '$') {
                    throw new RespProtocolException("expected '$', got '" + printable(t) + "'");
                }
                long len = readLong();
                if (len < 0 || len > MAX_BULK) {
                    throw new RespProtocolException("invalid bulk length " + len);
                }
                byte[] b = in.readNBytes((int) len);
                if (b.length != len) {
                    throw new EOFException("connection closed inside a bulk string");
                }
                expectCrlf();
                args.add(b);
            }
            return args;
        }
        return inline(first);
    }

    private List<byte[]> inline(int first) throws IOException {
        StringBuilder line = new StringBuilder();
        int c = first;
        while (c != '\n') {
            if (c < 0) {
                throw new EOFException("connection closed inside an inline command");
            }
            if (c != '\r') {
                line.append((char) c);
            }
            if (line.length() > MAX_LINE) {
                throw new RespProtocolException("too big inline request");
            }
            c = in.read();
        }
        List<byte[]> args = new ArrayList<>();
        for (String part : line.toString().trim().split("\\s+")) {
            if (!part.isEmpty()) {
                args.add(part.getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        return args;
    }

    private long readLong() throws IOException {
        long v = 0;
        boolean neg = false;
        int digits = 0;
        int c = in.read();
        if (c == '-') {
            neg = true;
            c = in.read();
        }
        while (c >= '0' && c <= '9') {
            v = v * 10 + (c - '0');
            if (++digits > 18) {
                throw new RespProtocolException("number too long");
            }
            c = in.read();
        }
        if (c != '\r' || in.read() != '\n' || digits == 0) {
            throw new RespProtocolException("expected a number followed by CRLF");
        }
        return neg ? -v : v;
    }

    private void expectCrlf() throws IOException {
        if (in.read() != '\r' || in.read() != '\n') {
            throw new RespProtocolException("expected CRLF after a bulk string");
        }
    }

    private static String printable(int c) {
        return c < 0 ? "EOF" : c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c);
    }
}
