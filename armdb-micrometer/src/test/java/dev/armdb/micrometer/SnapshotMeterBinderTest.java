package dev.armdb.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SnapshotMeterBinderTest {
    /** A source of one counter and one gauge, as armdb-cluster's ClusterMetrics reports them. */
    static final class Source {
        final AtomicLong events = new AtomicLong();
        final AtomicLong level = new AtomicLong();

        Map<String, Long> counters() {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("armdb.test.events", events.get());
            return m;
        }

        Map<String, Long> gauges() {
            return Map.of("armdb.test.level", level.get());
        }
    }

    @Test
    void countersAndGaugesReadTheSourceWhenScraped() {
        Source source = new Source();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new SnapshotMeterBinder<>(source, Source::counters, Source::gauges).bindTo(registry);
        // meters hold their source weakly: the binding must not depend on the binder object surviving
        System.gc();
        assertThat(registry.find("armdb.test.events").functionCounter().count()).isZero();
        source.events.addAndGet(3);
        source.level.set(7);
        assertThat(registry.find("armdb.test.events").functionCounter().count()).isEqualTo(3);
        assertThat(registry.find("armdb.test.level").gauge().value()).isEqualTo(7);
    }
}
