package dev.armdb.server;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal RESP client: sends commands as arrays, reads one reply each, rendered as text (RESP3 types too: maps as
 * {@code {k,v}}, sets as {@code ~[..]}, null as {@code (null)}, verbatim strings as {@code =txt:..}).
 */
final class RespTestClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RespTestClient(Node node) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), node.respAddress().getPort());
        socket.setSoTimeout(30_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    void send(String... args) throws IOException {
        StringBuilder sb = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
            sb.append('$')
                    .append(a.getBytes(StandardCharsets.UTF_8).length)
                    .append("\r\n")
                    .append(a)
                    .append("\r\n");
        }
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Sends raw bytes, flushed, as given. */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * Waits for the server to end the connection: true on end of stream or a reset, false if a byte arrived instead.
     * A read timeout (the connection stayed open) is thrown.
     */
    boolean endedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            throw e;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    /** Sets how long a read may wait. */
    void readTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    String call(String... args) throws IOException {
        send(args);
        return reply();
    }

    String reply() throws IOException {
        int type = in.read();
        String line = line();
        return switch (type) {
            case '+', '-', ':', ',', '#' -> (char) type + line;
            case '_' -> "(null)";
            case '=' -> {
                byte[] b = in.readNBytes(Integer.parseInt(line));
                line();
                yield "=" + new String(b, StandardCharsets.UTF_8);
            }
            case '%', '~' -> {
                int n = Integer.parseInt(line) * (type == '%' ? 2 : 1);
                StringBuilder sb = new StringBuilder(type == '%' ? "{" : "~[");
                for (int i = 0; i < n; i++) {
                    sb.append(i == 0 ? "" : ",").append(reply());
                }
                yield sb.append(type == '%' ? '}' : ']').toString();
            }
            case '$' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield "(nil)";
                }
                byte[] b = in.readNBytes(n);
                line();
                yield new String(b, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield "(nil)";
                }
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < n; i++) {
                    sb.append(i == 0 ? "" : ",").append(reply());
                }
                yield sb.append(']').toString();
            }
            default -> throw new IOException("bad reply type " + type);
        };
    }

    /** The next reply, or {@code (closed)} if the server closed the connection instead. */
    String replyOrClosed() throws IOException {
        try {
            return reply();
        } catch (IOException e) {
            return "(closed)";
        }
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("closed");
            }
            sb.append((char) c);
        }
        in.read();
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
