package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * Every {@code with...} method of the replication settings changes exactly the components it names and copies
 * every other one unchanged. Each case starts from settings whose components all differ from the values it sets,
 * and every public {@code with...} method must have a case, so a method added later cannot go unchecked.
 */
class ConfigCopyTest {
    private static final InetSocketAddress A1 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7001);
    private static final InetSocketAddress A2 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7002);
    private static final InetSocketAddress A3 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7003);
    private static final ReplicationSecret S1 = ReplicationSecret.of(bytes(1));
    private static final ReplicationSecret S2 = ReplicationSecret.of(bytes(2));
    private static final SSLContext T1 = tlsContext();
    private static final SSLContext T2 = tlsContext();

    /** One {@code with...} call and the components it must change, by name, to the value it must set. */
    private record Case<C>(String method, UnaryOperator<C> apply, Map<String, Object> changes) {}

    @Test
    void everyServerWithMethodChangesOnlyItsOwnComponents() throws Exception {
        ReplicationServerConfig base = new ReplicationServerConfig(
                A1,
                Duration.ofMillis(11),
                Duration.ofMillis(12),
                13,
                14,
                S1,
                T1,
                List.of("a:1"),
                A2,
                15,
                16,
                17,
                18,
                Duration.ofMillis(19));
        List<Case<ReplicationServerConfig>> cases = List.of(
                new Case<>("withMaxSessions", c -> c.withMaxSessions(27), Map.of("maxSessions", 27)),
                new Case<>("withBind", c -> c.withBind(A3), Map.of("bind", A3)),
                new Case<>(
                        "withTimeouts",
                        c -> c.withTimeouts(Duration.ofMillis(21), Duration.ofMillis(22)),
                        Map.of("heartbeatInterval", Duration.ofMillis(21), "peerTimeout", Duration.ofMillis(22))),
                new Case<>("withWindow", c -> c.withWindow(23, 24), Map.of("window", 23, "batchBytes", 24)),
                new Case<>("withTls", c -> c.withTls(T2), Map.of("tls", T2)),
                new Case<>("withSecret", c -> c.withSecret(S2), Map.of("secret", S2)),
                new Case<>("withAdvertise", c -> c.withAdvertise(List.of("b:2")), Map.of("advertise", List.of("b:2"))),
                new Case<>("withRespAddress", c -> c.withRespAddress(A3), Map.of("respAddress", A3)),
                new Case<>(
                        "withUnauthenticatedLimits",
                        c -> c.withUnauthenticatedLimits(25, 26),
                        Map.of("maxUnauthenticated", 25, "maxUnauthenticatedPerSource", 26)),
                new Case<>("withWorkerThreads", c -> c.withWorkerThreads(28), Map.of("workerThreads", 28)),
                new Case<>(
                        "withAckReadInterval",
                        c -> c.withAckReadInterval(Duration.ofMillis(29)),
                        Map.of("ackReadInterval", Duration.ofMillis(29))));
        check(ReplicationServerConfig.class, base, cases);
    }

    @Test
    void everyClientWithMethodChangesOnlyItsOwnComponents() throws Exception {
        ReplicationClientConfig base = new ReplicationClientConfig(
                Duration.ofMillis(11),
                Duration.ofMillis(12),
                Duration.ofMillis(13),
                Duration.ofMillis(14),
                Duration.ofMillis(15),
                S1,
                T1,
                A1,
                16);
        List<Case<ReplicationClientConfig>> cases = List.of(
                new Case<>(
                        "withTimeouts",
                        c -> c.withTimeouts(Duration.ofMillis(21), Duration.ofMillis(22)),
                        Map.of("heartbeatInterval", Duration.ofMillis(21), "peerTimeout", Duration.ofMillis(22))),
                new Case<>("withTls", c -> c.withTls(T2), Map.of("tls", T2)),
                new Case<>("withSecret", c -> c.withSecret(S2), Map.of("secret", S2)),
                new Case<>("withRespAddress", c -> c.withRespAddress(A2), Map.of("respAddress", A2)),
                new Case<>("withWorkerThreads", c -> c.withWorkerThreads(17), Map.of("workerThreads", 17)));
        check(ReplicationClientConfig.class, base, cases);
    }

    private static <C extends Record> void check(Class<C> type, C base, List<Case<C>> cases) throws Exception {
        assertThat(cases.stream().map(Case::method).collect(Collectors.toSet()))
                .as("a case for every public with... method of %s", type.getSimpleName())
                .isEqualTo(Arrays.stream(type.getDeclaredMethods())
                        .filter(m -> Modifier.isPublic(m.getModifiers()))
                        .map(Method::getName)
                        .filter(n -> n.startsWith("with"))
                        .collect(Collectors.toSet()));
        for (Case<C> c : cases) {
            Map<String, Object> before = components(base);
            for (Map.Entry<String, Object> change : c.changes().entrySet()) {
                assertThat(before).as("%s names a component", c.method()).containsKey(change.getKey());
                assertThat(before.get(change.getKey()))
                        .as("the base value of %s differs from what %s sets", change.getKey(), c.method())
                        .isNotEqualTo(change.getValue());
            }
            Map<String, Object> expected = new LinkedHashMap<>(before);
            expected.putAll(c.changes());
            assertThat(components(c.apply().apply(base))).as(c.method()).isEqualTo(expected);
        }
    }

    private static Map<String, Object> components(Record r) throws Exception {
        Map<String, Object> values = new LinkedHashMap<>();
        for (RecordComponent rc : r.getClass().getRecordComponents()) {
            values.put(rc.getName(), rc.getAccessor().invoke(r));
        }
        return values;
    }

    private static byte[] bytes(int fill) {
        byte[] b = new byte[ReplicationSecret.MIN_BYTES];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private static SSLContext tlsContext() {
        try {
            return SSLContext.getInstance("TLSv1.3");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("expected the JDK to offer TLSv1.3", e);
        }
    }
}
