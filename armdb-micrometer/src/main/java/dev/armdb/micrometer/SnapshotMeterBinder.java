package dev.armdb.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import java.util.function.Function;

/**
 * Exposes the plain counters and gauges of a module that reports them as maps by metric name (armdb-cluster's {@code
 * ClusterMetrics}: {@code armdb.cluster.*}) as Micrometer function counters and gauges, read when scraped. The meters
 * are the names of the snapshots taken at binding; a name missing from a later snapshot reads 0. As with every
 * Micrometer function meter the source is held weakly: its meters read NaN once it is collected.
 *
 * <p>Thread-safe once bound, if the source is.
 *
 * @param <T> the source's type
 */
public final class SnapshotMeterBinder<T> implements MeterBinder {
    private final T source;
    private final Function<T, Map<String, Long>> counters;
    private final Function<T, Map<String, Long>> gauges;

    /** A binder for the counters and gauges {@code source} reports through the functions, by metric name. */
    public SnapshotMeterBinder(
            T source, Function<T, Map<String, Long>> counters, Function<T, Map<String, Long>> gauges) {
        this.source = source;
        this.counters = counters;
        this.gauges = gauges;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String name : counters.apply(source).keySet()) {
            FunctionCounter.builder(name, source, s -> counters.apply(s).getOrDefault(name, 0L))
                    .register(registry);
        }
        for (String name : gauges.apply(source).keySet()) {
            Gauge.builder(name, source, s -> gauges.apply(s).getOrDefault(name, 0L))
                    .register(registry);
        }
    }
}
