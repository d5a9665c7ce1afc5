package dev.armdb.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal RESP2 client for the benchmark drivers: commands are arrays of bulk strings (text or raw bytes);
 * replies come back as {@link String} (simple string), {@link Long} (integer), {@code byte[]} (bulk string, null
 * for a nil), {@link List} (array) or {@link Error} (an error reply, returned, not thrown). Writes are buffered
 * until {@link #flush()} or {@link #call}, so a caller can pipeline. Loopback only. Not thread-safe.
 */
final class Resp implements AutoCloseable {
    /** An error reply such as {@code -LOADING ...}. */
    record Error(String message) {}

    private static final byte[] CRLF = {'\r', '\n'};

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private Resp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 64 << 10);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 << 10);
    }

    /** Connects to {@code port} on 127.0.0.1; every read waits at most {@code readTimeoutMillis}. */
    static Resp connect(int port, int readTimeoutMillis) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            s.setSoTimeout(readTimeoutMillis);
            s.setTcpNoDelay(true);
            return new Resp(s);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** Buffers one command; each argument is a {@link String} (UTF-8), a {@code byte[]} or a number. */
    void write(Object... args) throws IOException {
        out.write('*');
        out.write(ascii(args.length));
        out.write(CRLF);
        for (Object a : args) {
            byte[] b = switch (a) {
                case byte[] bytes -> bytes;
                case String s -> s.getBytes(StandardCharsets.UTF_8);
                case Number n -> ascii(n.longValue());
                default -> throw new IllegalArgumentException("unsupported argument " + a.getClass());
            };
            out.write('$');
            out.write(ascii(b.length));
            out.write(CRLF);
            out.write(b);
            out.write(CRLF);
        }
    }

    /** Sends every buffered command. */
    void flush() throws IOException {
        out.flush();
    }

    /** Sends one command and returns its reply. */
    Object call(Object... args) throws IOException {
        write(args);
        flush();
        return read();
    }

    /** A command's reply as text: simple and bulk strings as they are, integers in decimal, errors as thrown. */
    String callText(Object... args) throws IOException {
        Object r = call(args);
        return switch (r) {
            case Error e -> throw new IOException("server replied " + e.message() + " to " + args[0]);
            case byte[] b -> new String(b, StandardCharsets.UTF_8);
            case null -> null;
            default -> r.toString();
        };
    }

    /** Reads the next reply. */
    Object read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed by the server");
        }
        String line = line();
        return switch (type) {
            case '+' -> line;
            case '-' -> new Error(line);
            case ':' -> Long.parseLong(line);
            case '$' -> bulk(Integer.parseInt(line));
            case '*' -> array(Integer.parseInt(line));
            default -> throw new IOException("not RESP: type byte " + type);
        };
    }

    private byte[] bulk(int length) throws IOException {
        if (length < 0) {
            return null;
        }
        byte[] b = in.readNBytes(length);
        if (b.length != length || in.read() != '\r' || in.read() != '\n') {
            throw new EOFException("short bulk string");
        }
        return b;
    }

    private List<Object> array(int length) throws IOException {
        if (length < 0) {
            return null;
        }
        List<Object> list = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            list.add(read());
        }
        return list;
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c != '\r'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed mid-line");
            }
            sb.append((char) c);
        }
        if (in.read() != '\n') {
            throw new IOException("not RESP: CR without LF");
        }
        return sb.toString();
    }

    private static byte[] ascii(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
