package dev.armdb.server;

import dev.armdb.ArmDbException;
import dev.armdb.micrometer.ArmDbMeterBinder;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves Prometheus text at {@code GET /metrics} for a node, from a Prometheus registry bound to an {@link
 * ArmDbMeterBinder}: a deliberately small HTTP/1.1 server that answers one request per connection and closes it.
 * Other paths get 404, other methods 405. At most {@value #MAX_IN_FLIGHT} requests are served at once (more get
 * 503), each on a virtual thread and each cut off {@value #REQUEST_MILLIS} ms after it was accepted, so a stalled
 * or trickling client holds one slot for a bounded time and never blocks other scrapers.
 *
 * <p>Thread-safe: an acceptor thread, a virtual thread per request, one watchdog thread.
 */
final class MetricsEndpoint implements AutoCloseable {
    /** Requests served at once. */
    static final int MAX_IN_FLIGHT = 16;
    /** Longest a request may take from accept to the last byte of the answer. */
    static final long REQUEST_MILLIS = 5_000;
    /** Longest request head (request line and headers) read. */
    static final int MAX_HEAD = 8192;

    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    private final PrometheusMeterRegistry registry;
    private final ServerSocket server;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final ScheduledExecutorService watchdog;
    private final Thread acceptor;
    private volatile boolean closed;

    private MetricsEndpoint(PrometheusMeterRegistry registry, ServerSocket server) {
        this.registry = registry;
        this.server = server;
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("armdb-metrics-watchdog").unstarted(r));
        this.acceptor =
                Thread.ofPlatform().daemon().name("armdb-metrics-accept").unstarted(this::acceptLoop);
    }

    static MetricsEndpoint start(Node node, InetSocketAddress bind) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new ArmDbMeterBinder(node.map(), node::replicationServer, node::replicationClient).bindTo(registry);
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(bind, 64);
            MetricsEndpoint m = new MetricsEndpoint(registry, s);
            m.acceptor.start();
            return m;
        } catch (IOException e) {
            throw new ArmDbException("cannot serve metrics on " + bind + ": " + e.getMessage(), e);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s = null;
            try {
                s = server.accept();
                if (!inFlight.tryAcquire()) {
                    answer(s.getOutputStream(), 503, "too many metrics requests in flight\n");
                    s.close();
                    continue;
                }
                Socket client = s;
                ScheduledFuture<?> cutOff =
                        watchdog.schedule(() -> closeQuietly(client), REQUEST_MILLIS, TimeUnit.MILLISECONDS);
                Thread.ofVirtual().name("armdb-metrics-request").start(() -> {
                    try {
                        serve(client);
                    } catch (IOException | RuntimeException e) {
                        LOG.debug("metrics request from {} failed: {}", client.getRemoteSocketAddress(), e.toString());
                    } finally {
                        cutOff.cancel(false);
                        closeQuietly(client);
                        inFlight.release();
                    }
                });
            } catch (Throwable e) {
                if (!closed) {
                    // one request's failure must not stop the endpoint
                    LOG.warn("metrics endpoint: accepting a request failed: {}", e.toString());
                    closeQuietly(s);
                }
            }
        }
    }

    private void serve(Socket s) throws IOException {
        s.setSoTimeout((int) REQUEST_MILLIS);
        String requestLine = readHead(new java.io.BufferedInputStream(s.getInputStream(), 1024));
        OutputStream out = s.getOutputStream();
        String[] parts = requestLine == null ? new String[0] : requestLine.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/")) {
            answer(out, 400, "bad request\n");
            return;
        }
        String path = parts[1];
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        if (!path.equals("/metrics")) {
            answer(out, 404, "only /metrics is served here\n");
        } else if (!parts[0].equals("GET")) {
            answer(out, 405, "only GET is allowed\n");
        } else {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            head(out, 200, "text/plain; version=0.0.4; charset=utf-8", body.length);
            out.write(body);
            out.flush();
        }
    }

    /** Reads the request head up to the empty line; returns its first line, or null if it is too long or cut. */
    private static String readHead(InputStream in) throws IOException {
        byte[] head = new byte[MAX_HEAD];
        int n = 0;
        while (n < head.length) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head[n++] = (byte) b;
            if (n >= 4 && head[n - 4] == '\r' && head[n - 3] == '\n' && head[n - 2] == '\r' && head[n - 1] == '\n') {
                String text = new String(head, 0, n, StandardCharsets.ISO_8859_1);
                return text.substring(0, text.indexOf("\r\n"));
            }
        }
        return null;
    }

    private static void answer(OutputStream out, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.US_ASCII);
        head(out, status, "text/plain; charset=utf-8", body.length);
        out.write(body);
        out.flush();
    }

    private static void head(OutputStream out, int status, String type, int length) throws IOException {
        String reason = switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            default -> "Service Unavailable";
        };
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + type + "\r\nContent-Length: "
                + length + "\r\n" + (status == 405 ? "Allow: GET\r\n" : "") + "Connection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** Registers {@code binder}'s meters with this endpoint's registry. */
    void bind(MeterBinder binder) {
        binder.bindTo(registry);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        watchdog.shutdownNow();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
