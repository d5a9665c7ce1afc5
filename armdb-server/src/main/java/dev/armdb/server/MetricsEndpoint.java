package dev.armdb.server;

import com.sun.net.httpserver.HttpServer;
import dev.armdb.ArmDbException;
import dev.armdb.micrometer.ArmDbMeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Serves Prometheus text at {@code /metrics} for a node, from a Prometheus registry bound to an {@link
 * ArmDbMeterBinder}. Uses the JDK's HTTP server on one thread. Thread-safe.
 */
final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer http;

    private MetricsEndpoint(HttpServer http) {
        this.http = http;
    }

    static MetricsEndpoint start(Node node, InetSocketAddress bind) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new ArmDbMeterBinder(node.map(), node::replicationServer, node::replicationClient).bindTo(registry);
        try {
            HttpServer http = HttpServer.create(bind, 16);
            http.createContext("/metrics", exchange -> {
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            http.start();
            return new MetricsEndpoint(http);
        } catch (IOException e) {
            throw new ArmDbException("cannot serve metrics on " + bind + ": " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return http.getAddress();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
