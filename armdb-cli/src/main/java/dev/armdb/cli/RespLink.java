package dev.armdb.cli;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal pipelining RESP2 client for the cluster demo: commands are queued with {@link #send} and their replies read
 * in order with {@link #reply}. Replies are strings: {@code +OK}, {@code -ERR ...}, {@code :2}, a bulk string's
 * payload (null for nil), or for an array a {@link List} of those. Every read is bounded by a socket timeout. Used by
 * one thread.
 */
final class RespLink implements AutoCloseable {
    private static final int MAX_BULK = 1 << 20;
    private static final int MAX_LINE = 64 * 1024;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** Connects to {@code address}, waiting at most {@code timeoutMillis} for the connection and for each reply. */
    RespLink(InetSocketAddress address, int timeoutMillis) throws IOException {
        socket = new Socket();
        try {
            socket.connect(address, timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Queues one command (sent at the next {@link #flush} or when the buffer fills). */
    void send(String... args) throws IOException {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            byte[] b = a.getBytes(StandardCharsets.UTF_8);
            sb.append('$').append(b.length).append("\r\n").append(a).append("\r\n");
        }
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Sends what is queued. */
    void flush() throws IOException {
        out.flush();
    }

    /** Sends one command and returns its reply. */
    Object call(String... args) throws IOException {
        send(args);
        flush();
        return reply();
    }

    /** The next reply, in the order the commands were sent. */
    Object reply() throws IOException {
        String line = line();
        if (line.isEmpty()) {
            throw new IOException("empty reply line");
        }
        return switch (line.charAt(0)) {
            case '+', '-', ':' -> line;
            case '$' -> bulk(Integer.parseInt(line.substring(1)));
            case '*' -> array(Integer.parseInt(line.substring(1)));
            default -> throw new IOException("unexpected reply: " + line);
        };
    }

    private String bulk(int n) throws IOException {
        if (n < 0) {
            return null;
        }
        if (n > MAX_BULK) {
            throw new IOException("bulk reply of " + n + " bytes, expected at most " + MAX_BULK);
        }
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IOException("connection closed");
        }
        line();
        return new String(b, StandardCharsets.UTF_8);
    }

    private List<Object> array(int n) throws IOException {
        if (n < 0) {
            return null;
        }
        List<Object> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            items.add(reply());
        }
        return items;
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != '\r'; ) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (sb.length() >= MAX_LINE) {
                throw new IOException("reply line longer than " + MAX_LINE + " bytes");
            }
            sb.append((char) c);
        }
        if (in.read() != '\n') {
            throw new IOException("reply line not ended by CRLF");
        }
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
